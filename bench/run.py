"""`make bench`: benchmarks against a real `pforte serve` process (see docs/benchmarks.md).

Benchmark 1, "list clients page by page": a tenant with N clients (N = 100 and 100,000), on
SQLite and, when it is reachable, on a throwaway PostgreSQL database. The server runs pinned
to CPU 0 (one worker, no access log); wrk runs pinned to CPU 1 with 1 thread and 16
connections, a 2 s warm-up that is discarded, then 10 s measured, on

    GET /api/admin/v1/tenants/{slug}/clients?limit=50

for the first page and for a page from the middle of the list (keyset pagination: the deep
page must cost what the first one costs). Before that, one client walks every page in order
over HTTP, checking that each client comes back exactly once and taking the middle page's
cursor from the server.

Seeding is not what is measured: the clients are inserted straight into the table with
SQLAlchemy Core, in batches of 5,000, every column filled with ClientSpec's defaults.

Results: a table on stdout and bench/results/latest.json (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from pforte.domain.clients import ClientSpec
from pforte.domain.pagination import encode_cursor
from pforte.services import tenants as tenant_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL, initialise
from pforte.services.context import Context
from pforte.settings import Settings
from pforte.store.tables import ClientRow

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "count_non2xx.lua"
RESULTS = BENCH / "results" / "latest.json"
PFORTE = Path(sys.executable).parent / "pforte"
SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnopqrs"
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TENANT = "bench"
PAGE = 50
BATCH = 5_000
SERVER_CPU, CLIENT_CPU = "0", "1"


@dataclass
class Row:
    db: str
    n: int
    page: str
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    server_cpu_ms_per_req: float


@dataclass
class Walk:
    db: str
    n: int
    pages: int
    seconds: float
    ms_per_page: float
    first_page_ms: float
    last_page_ms: float


# --- databases ---------------------------------------------------------------------------------


def pg_base_url() -> str:
    return os.environ.get("PFORTE_BENCH_POSTGRES_URL") or os.environ.get(
        "PFORTE_TEST_POSTGRES_URL", PG_DEFAULT
    )


def pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def pg_execute(sql: str) -> None:
    conn = await asyncpg.connect(pg_dsn(pg_base_url()), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_reachable() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        asyncio.run(pg_execute("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Any:
    """A fresh, empty database URL; a PostgreSQL one is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'pforte.db'}"
        return
    name = f"pforte_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_execute(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_base_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def client_id(i: int) -> str:
    return f"bench-client-{i:06d}"


async def seed(url: str, n: int) -> str:
    """Migrate, initialise, create the tenant and n clients; return the operator API key."""
    settings = Settings(database_url=url, secret_key=SECRET_KEY)
    ctx = Context.create(settings)
    try:
        created = await initialise(ctx)
        assert created is not None, "the database was not empty"
        tenant = await tenant_service.create_tenant(
            ctx, SYSTEM_PRINCIPAL, tenant_service.TenantCreate(slug=TENANT)
        )
        defaults = asdict(ClientSpec(client_id="-"))
        now = datetime.now(UTC)
        table = ClientRow.__table__
        for start in range(0, n, BATCH):
            rows = [
                {
                    **defaults,
                    "id": uuid.uuid4(),
                    "tenant_id": tenant.id,
                    "client_id": client_id(i),
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(start, min(start + BATCH, n))
            ]
            async with ctx.db.transaction() as session:
                await session.execute(insert(table), rows)
        # Fresh planner statistics, as autovacuum / a routine ANALYZE would have by then.
        async with ctx.db.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
        return created.api_key
    finally:
        await ctx.db.dispose()


# --- the server and wrk ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pinned(cpu: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *command] if shutil.which("taskset") else command


@contextlib.contextmanager
def server(url: str, workdir: Path) -> Any:
    """`pforte serve` pinned to CPU 0, one worker, no access log; stopped by its PID."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PFORTE_")}
    env.update(
        PFORTE_DATABASE_URL=url,
        PFORTE_SECRET_KEY=SECRET_KEY,
        PFORTE_ACCESS_LOG="false",
        PFORTE_LOG_LEVEL="warning",
        PFORTE_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(
        pinned(SERVER_CPU, [str(PFORTE), "serve", "--host", "127.0.0.1", "--port", str(port)]),
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"pforte serve exited with {proc.returncode}; see {workdir / 'server.log'}"
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("pforte serve did not become healthy in 30 s")
            time.sleep(0.1)
        yield base, proc.pid
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        log.close()


_BENCH_LINE = re.compile(r"(\w+)=(\d+)")


def wrk(url: str, api_key: str, seconds: int, *, connections: int, latency: bool) -> dict[str, Any]:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        "-H",
        f"Authorization: Bearer {api_key}",
    ]
    if latency:
        command.append("--latency")
    result = subprocess.run(
        pinned(CLIENT_CPU, [*command, url]), capture_output=True, text=True, timeout=seconds + 30, check=True
    )
    values: dict[str, Any] = {"raw": result.stdout}
    for line in result.stdout.splitlines():
        if line.startswith("bench:"):
            values.update({k: int(v) for k, v in _BENCH_LINE.findall(line)})
    return values


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (the server runs with one worker, in its own process)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    db: str, n: int, page: str, url: str, api_key: str, pid: int, args: argparse.Namespace
) -> tuple[Row, str]:
    wrk(url, api_key, args.warmup, connections=args.connections, latency=False)  # discarded
    cpu_before = cpu_seconds(pid)
    got = wrk(url, api_key, args.duration, connections=args.connections, latency=True)
    cpu = cpu_seconds(pid) - cpu_before
    row = Row(
        db=db,
        n=n,
        page=page,
        rps=got["requests"] / (got["duration_us"] / 1e6),
        p50_ms=got["p50_us"] / 1000,
        p90_ms=got["p90_us"] / 1000,
        p99_ms=got["p99_us"] / 1000,
        max_ms=got["max_us"] / 1000,
        requests=got["requests"],
        non_2xx=got["non2xx"],
        socket_errors=got["socket_errors"],
        server_cpu_ms_per_req=cpu / max(got["requests"], 1) * 1000,
    )
    return row, got["raw"]


def walk(db: str, base: str, api_key: str, n: int) -> tuple[Walk, str]:
    """Every page in order, one request at a time; checks the keyset and returns the cursor
    that the server issued for the middle page."""
    path = f"/api/admin/v1/tenants/{TENANT}/clients"
    middle_cursor = None
    seen = 0
    timings = []
    cursor: str | None = None
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {api_key}"}, timeout=10) as http:
        http.get(path, params={"limit": PAGE}).raise_for_status()  # connection and caches warm
        started = time.perf_counter()
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if cursor is not None:
                params["cursor"] = cursor
            t0 = time.perf_counter()
            response = http.get(path, params=params)
            timings.append(time.perf_counter() - t0)
            response.raise_for_status()
            body = response.json()
            ids = [item["clientId"] for item in body["items"]]
            expected = [client_id(i) for i in range(seen, min(seen + PAGE, n))]
            if ids != expected:
                raise AssertionError(f"page at {seen}: got {ids[:3]}…, expected {expected[:3]}…")
            seen += len(ids)
            cursor = body["next"]
            if seen == n // 2:
                middle_cursor = cursor
            if cursor is None:
                break
        seconds = time.perf_counter() - started
    if seen != n:
        raise AssertionError(f"walked {seen} clients, expected {n}")
    if middle_cursor is None or middle_cursor != encode_cursor(client_id(n // 2 - 1)):
        raise AssertionError(f"unexpected middle cursor {middle_cursor!r}")
    pages = len(timings)
    result = Walk(
        db=db,
        n=n,
        pages=pages,
        seconds=seconds,
        ms_per_page=seconds / pages * 1000,
        first_page_ms=timings[0] * 1000,
        last_page_ms=timings[-1] * 1000,
    )
    return result, middle_cursor


# --- main --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    kinds = ["sqlite"]
    skipped = None
    if not args.no_postgres:
        skipped = pg_reachable()
        if skipped is None:
            kinds.append("postgresql")
        else:
            print(f"PostgreSQL skipped: not reachable at {make_url(pg_base_url())}: {skipped}")
    rows: list[Row] = []
    walks: list[Walk] = []
    raw: dict[str, str] = {}
    for kind in kinds:
        for n in args.sizes:
            with tempfile.TemporaryDirectory(prefix="pforte-bench-") as tmp, database(kind, Path(tmp)) as url:
                t0 = time.perf_counter()
                api_key = asyncio.run(seed(url, n))
                print(f"[{kind} N={n:,}] seeded in {time.perf_counter() - t0:.1f} s", flush=True)
                with server(url, Path(tmp)) as (base, pid):
                    walked, middle = walk(kind, base, api_key, n)
                    walks.append(walked)
                    print(
                        f"[{kind} N={n:,}] walked {walked.pages} pages: {walked.ms_per_page:.2f} ms/page",
                        flush=True,
                    )
                    list_url = f"{base}/api/admin/v1/tenants/{TENANT}/clients?limit={PAGE}"
                    for page, url_ in (("first", list_url), ("middle", f"{list_url}&cursor={middle}")):
                        row, out = measure(kind, n, page, url_, api_key, pid, args)
                        rows.append(row)
                        raw[f"{kind}/{n}/{page}"] = out
                        print(
                            f"[{kind} N={n:,} {page}] {row.rps:,.0f} req/s, p50 {row.p50_ms:.2f} ms, "
                            f"p99 {row.p99_ms:.2f} ms, non-2xx {row.non_2xx}",
                            flush=True,
                        )
    return {"rows": rows, "walks": walks, "raw": raw, "postgres_skipped": skipped}


def table(rows: list[Row], walks: list[Walk]) -> str:
    lines = [
        "| db | N clients | page | req/s | p50 ms | p99 ms | non-2xx | server CPU ms/req |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        non2xx = r.non_2xx + r.socket_errors
        lines.append(
            f"| {r.db} | {r.n:,} | {r.page} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {non2xx} "
            f"| {r.server_cpu_ms_per_req:.2f} |"
        )
    lines += [
        "",
        "| db | N clients | pages walked | total s | ms/page | first page ms | last page ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for w in walks:
        lines.append(
            f"| {w.db} | {w.n:,} | {w.pages:,} | {w.seconds:.2f} | {w.ms_per_page:.2f} | "
            f"{w.first_page_ms:.2f} | {w.last_page_ms:.2f} |"
        )
    return "\n".join(lines)


def wrk_version() -> str:
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).splitlines()[0] if (result.stdout or result.stderr) else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100, 100_000])
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=2, help="discarded seconds before each run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (make bench installs it: apt-get install wrk)", file=sys.stderr)
        return 2
    if not PFORTE.exists():
        print(f"{PFORTE} not found: run through `make bench`", file=sys.stderr)
        return 2
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {int(CLIENT_CPU)})  # seeding and the walk stay off the server's CPU

    started = time.perf_counter()
    result = run(args)
    rows, walks = result["rows"], result["walks"]
    print()
    print("Benchmark 1: list clients page by page (GET …/tenants/bench/clients?limit=50)")
    print(table(rows, walks))
    print(f"\n({time.perf_counter() - started:.0f} s)")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "list clients page by page",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "wrk": wrk_version(),
        },
        "setup": {
            "server": f"taskset -c {SERVER_CPU} pforte serve (1 worker, PFORTE_ACCESS_LOG=false)",
            "wrk": (
                f"taskset -c {CLIENT_CPU} wrk -t1 -c{args.connections} "
                f"-d{args.duration}s --latency (after a {args.warmup} s warm-up)"
            ),
            "page_size": PAGE,
            "postgres_skipped": result["postgres_skipped"],
        },
        "results": [dataclasses.asdict(r) for r in rows],
        "walks": [dataclasses.asdict(w) for w in walks],
        "wrk_output": result["raw"],
    }
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written: {RESULTS.relative_to(ROOT)}")
    failed = [r for r in rows if r.non_2xx or r.socket_errors]
    if failed:
        print(f"{len(failed)} run(s) had non-2xx responses or socket errors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
