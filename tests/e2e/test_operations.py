"""Operators' endpoints on a real ``pforte serve``: ``/metrics`` with one worker and with two
(prometheus_client's multiprocess mode, its directory made and removed by the server), and
``/health/ready`` on SQLite and PostgreSQL when the schema falls behind or the database goes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from pforte.store.revision import code_revisions
from tests.conftest import _pg_execute, throwaway_postgres
from tests.e2e.conftest import BOOTSTRAP_CLIENT_ID, BOOTSTRAP_CLIENT_SECRET, Server, Servers, base_env

HEAD = code_revisions().head  # the code's newest migration
pytestmark = pytest.mark.e2e

METRICS_TOKEN = "e2e-metrics-token-9f8e7d6c5b4a"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}
TOKEN_ROUTE = 'pforte_http_requests_total{method="POST",route="/t/{slug}/token",status="200"}'
ISSUED = 'pforte_tokens_issued_total{grant_type="client_credentials"}'


def env_for(workdir: Path, **settings: str) -> dict[str, str]:
    return base_env(
        workdir,
        PFORTE_BOOTSTRAP_CLIENT_ID=BOOTSTRAP_CLIENT_ID,
        PFORTE_BOOTSTRAP_CLIENT_SECRET=BOOTSTRAP_CLIENT_SECRET,
        **settings,
    )


def scrape(server: Server) -> dict[str, float]:
    """``name{labels}`` → value, labels sorted as the exposition writes them."""
    response = httpx.get(f"{server.url}/metrics", headers=SCRAPE, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE_PLAIN_0_0_4
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


def issue_tokens(server: Server, count: int, *, parallel: int = 1) -> None:
    """``count`` client_credentials tokens, each on a new connection (so that any worker may
    take it), ``parallel`` at a time."""

    def one(_: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            response = http.post(
                "/t/system/token",
                data={"grant_type": "client_credentials"},
                auth=(BOOTSTRAP_CLIENT_ID, BOOTSTRAP_CLIENT_SECRET),
            )
            assert response.status_code == 200, response.text

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, range(count)))


def test_one_worker_counts_every_token_and_never_shows_the_token(servers: Servers) -> None:
    workdir = servers.workdir()
    server = servers.start(workdir, env_for(workdir, PFORTE_METRICS_TOKEN=METRICS_TOKEN))
    assert httpx.get(f"{server.url}/metrics").status_code == 401
    refused = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer not-the-token-000000"})
    assert (refused.status_code, refused.headers["www-authenticate"][:6]) == (401, "Bearer")
    before = scrape(server)
    issue_tokens(server, 12)
    httpx.get(f"{server.url}/t/demo/jwks")
    after = scrape(server)
    assert after[ISSUED] - before.get(ISSUED, 0) == 12
    assert after[TOKEN_ROUTE] - before.get(TOKEN_ROUTE, 0) == 12
    assert after['pforte_http_requests_total{method="GET",route="/t/{slug}/jwks",status="404"}'] == 1
    assert not any("/t/demo" in key or "/t/system" in key for key in after)
    assert after["pforte_feed_listening"] == 1
    assert "process_resident_memory_bytes" in after
    assert not any(key.startswith("pforte_") and "pid=" in key for key in after)
    server.stop()
    assert METRICS_TOKEN not in server.stdout() + server.stderr()


def worker_tokens(directory: Path) -> dict[str, float]:
    """Tokens counted in each worker's file of the multiprocess directory, by file."""
    counted = {}
    for path in directory.glob("counter_*.db"):
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(path)):
            if json.loads(key)[1] == "pforte_tokens_issued_total":
                counted[path.name] = counted.get(path.name, 0) + value
    return counted


def multiproc_dir(server: Server) -> Path:
    """The PROMETHEUS_MULTIPROC_DIR the workers were started with."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for pid in server.children():
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            for entry in environ:
                if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
                    return Path(entry.partition(b"=")[2].decode())
        time.sleep(0.1)
    pytest.fail("no worker has PROMETHEUS_MULTIPROC_DIR")


def test_two_workers_add_up_to_exactly_the_tokens_issued(servers: Servers) -> None:
    workdir = servers.workdir()
    env = env_for(workdir, PFORTE_METRICS_TOKEN=METRICS_TOKEN, PFORTE_ACCESS_LOG="false")
    server = servers.start(workdir, env, args=["--workers", "2"])
    directory = multiproc_dir(server)
    assert directory.is_dir()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700

    sent = 0
    deadline = time.monotonic() + 60
    while len(worker_tokens(directory)) < 2:  # until both workers have issued some
        assert time.monotonic() < deadline, f"one worker took every request: {worker_tokens(directory)}"
        issue_tokens(server, 16, parallel=8)
        sent += 16
        time.sleep(1.2)  # each worker publishes its counts every second
    per_worker = worker_tokens(directory)
    assert sum(per_worker.values()) == sent, per_worker

    # every scrape, whichever worker answers it, adds both workers up
    for _ in range(6):
        found = scrape(server)
        assert found[ISSUED] == sent
        assert found[TOKEN_ROUTE] == sent

    server.stop()
    assert not directory.exists()


def test_an_operators_multiprocess_directory_is_used_and_kept(servers: Servers) -> None:
    workdir = servers.workdir()
    directory = workdir / "prometheus"
    directory.mkdir(mode=0o700)
    env = env_for(workdir, PFORTE_METRICS_TOKEN=METRICS_TOKEN, PROMETHEUS_MULTIPROC_DIR=str(directory))
    server = servers.start(workdir, env, args=["--workers", "2"])
    assert multiproc_dir(server) == directory
    issue_tokens(server, 3)
    deadline = time.monotonic() + 10
    while scrape(server).get(ISSUED) != 3:
        assert time.monotonic() < deadline, "the counts did not arrive"
        time.sleep(0.2)
    server.stop()
    assert sum(worker_tokens(directory).values()) == 3  # the operator's: kept


def test_ready_until_the_schema_falls_behind(servers: Servers) -> None:
    workdir = servers.workdir()
    server = servers.start(workdir, env_for(workdir))
    ready = httpx.get(f"{server.url}/health/ready")
    assert (ready.status_code, ready.json()["status"]) == (200, "ok")
    assert ready.headers["cache-control"] == "no-store"
    with sqlite3.connect(server.db_path) as db:
        db.execute("UPDATE alembic_version SET version_num = '0005'")
    behind = httpx.get(f"{server.url}/health/ready")
    assert behind.status_code == 503
    assert behind.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": f"behind: db 0005, code {HEAD}", "feed": "ok"},
    }
    assert httpx.get(f"{server.url}/health/live").status_code == 200


def test_ready_on_postgresql_until_the_database_goes(servers: Servers) -> None:
    with throwaway_postgres() as url:
        workdir = servers.workdir()
        server = servers.start(workdir, env_for(workdir, PFORTE_DATABASE_URL=url))
        ready = httpx.get(f"{server.url}/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {
            "status": "ok",
            "checks": {"database": "ok", "migrations": "ok", "feed": "ok"},
        }

        name = url.rpartition("/")[2]
        asyncio.run(_pg_execute(f'DROP DATABASE "{name}" WITH (FORCE)'))
        deadline = time.monotonic() + 15
        while True:
            gone = httpx.get(f"{server.url}/health/ready", timeout=10)
            checks = gone.json()["checks"]
            if checks["feed"] == "not listening" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert gone.status_code == 503
        assert gone.json() == {
            "status": "unavailable",
            "checks": {
                "database": "unreachable",
                "migrations": "unknown: the database is unreachable",
                "feed": "not listening",
            },
        }
        assert name not in gone.text
        assert httpx.get(f"{server.url}/health/live").status_code == 200
        server.stop()
