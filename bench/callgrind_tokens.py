"""`make bench-callgrind`: instructions per token request, counted by valgrind's callgrind.

Wall-clock figures on a shared 2-core machine move by 20-40 % from one sitting to the next;
instruction counts do not. One SQLite database is seeded (tenant `bench`, client `bench`), then
for each setting the serving process (`python -m pforte.server`, uvicorn, one process) runs
under `valgrind --tool=callgrind --instr-atstart=no`: WARMUP token requests over one
keep-alive connection fill the caches, instrumentation is switched on (`callgrind_control -i
on`), REQUESTS more are sent, and the counts are dumped (`callgrind_control -d`).
Ir / REQUESTS is the cost of one request in the whole process — uvicorn, the app, signing, the
access log and its writer thread included. Each setting runs with ``PFORTE_METRICS_TOKEN`` unset
and set (the cost of counting for ``/metrics``).

    .venv/bin/python bench/callgrind_tokens.py [--requests 500] [--pythonpath OTHER_CHECKOUT]

`--pythonpath` runs the server from another checkout (e.g. a `git worktree` of an older
commit) with this checkout's virtual environment, for before/after figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import tokens

LOG_OFF = {"PFORTE_ACCESS_LOG": "false", "PFORTE_LOG_LEVEL": "warning"}
METRICS_ON = {"PFORTE_METRICS_TOKEN": "callgrind-metrics-token-0123456789"}
SETTINGS = {
    "defaults (access log on, level info)": {},
    "PFORTE_ACCESS_LOG=false, level warning": LOG_OFF,
    "defaults + PFORTE_METRICS_TOKEN": METRICS_ON,
    "access log off + PFORTE_METRICS_TOKEN": {**LOG_OFF, **METRICS_ON},
}


def post_tokens(port: int, authorization: str, count: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": authorization}
    for _ in range(count):
        connection.request("POST", "/t/bench/token", body=tokens.TOKEN_BODY, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200 or b"access_token" not in body:
            raise SystemExit(f"token request answered {response.status}: {body[:200]!r}")
    connection.close()


def wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode})")
        if harness.port_open(port):
            return
        time.sleep(0.5)
    raise SystemExit("the server did not start")


def measure(url: str, workdir: Path, secret: str, env: dict[str, str], args: argparse.Namespace) -> float:
    port = harness.free_port()
    out = workdir / f"callgrind.{port}.out"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PFORTE_")}
    environment.update(
        PFORTE_DATABASE_URL=url,
        PFORTE_SECRET_KEY=harness.SECRET_KEY,
        PFORTE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        PFORTE_HOST="127.0.0.1",
        PFORTE_PORT=str(port),
        PYTHONHASHSEED="0",
        **env,
    )
    if args.pythonpath:
        environment["PYTHONPATH"] = args.pythonpath
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",  # start-up runs uninstrumented (faster); counted from "-i on" only
        f"--callgrind-out-file={out}",
        sys.executable,
        "-m",
        "pforte.server",
    ]
    with (workdir / f"server.{port}.log").open("wb") as log:
        proc = subprocess.Popen(command, cwd=workdir, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_port(port, proc)
            authorization = "Basic " + base64.b64encode(f"{tokens.CLIENT}:{secret}".encode()).decode()
            post_tokens(port, authorization, args.warmup)
            subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True)
            post_tokens(port, authorization, args.requests)
            subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        finally:
            proc.terminate()
            proc.wait(300)
    # The explicit dump (".1") holds exactly the measured requests; the one at exit, the stop.
    dump = Path(f"{out}.1").read_text(errors="replace")
    match = re.search(r"^totals:\s+(\d+)", dump, re.MULTILINE)
    if match is None:
        raise SystemExit(f"no totals in {out}.1")
    return int(match.group(1)) / args.requests


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--pythonpath", default="", help="run the server from this checkout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pforte-callgrind-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        secret, _ = asyncio.run(tokens.seed(url, 0))
        print(f"callgrind, {args.requests} token requests after {args.warmup} warm-up, one uvicorn process")
        for name, env in SETTINGS.items():
            per_request = measure(url, workdir, secret, env, args)
            print(f"  {name:42} {per_request:12,.0f} instructions per request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
