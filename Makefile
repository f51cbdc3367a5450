# Pforte — `make run` starts a server, `make test` runs the suite; both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run test check format bench bench-tokens bench-flows bench-callgrind wrk clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

run: install            ## start the server on SQLite at http://127.0.0.1:8000
	$(BIN)/pforte serve

test: install           ## the whole suite (PostgreSQL tests skip with a reason when it is absent)
	$(BIN)/python -m pytest

check: install          ## format, lint, types
	$(BIN)/ruff format --check pforte tests bench
	$(BIN)/ruff check pforte tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format pforte tests bench
	$(BIN)/ruff check --fix pforte tests bench

wrk:
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

bench: install wrk      ## benchmarks against a real server process (see docs/benchmarks.md)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/tokens.py $(ARGS)
	$(BIN)/python bench/flows.py

bench-flows: install wrk  ## the user grants: code exchange and refresh, SQLite and PostgreSQL
	$(BIN)/python bench/flows.py $(ARGS)

bench-tokens: install wrk  ## benchmark 2 alone, the token service; e.g. ARGS="--quick" or ARGS="--peers"
	$(BIN)/python bench/tokens.py $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

bench-callgrind: install  ## instructions per token request (valgrind callgrind), defaults and log off, metrics off and on
	$(BIN)/python bench/callgrind_tokens.py $(ARGS)
