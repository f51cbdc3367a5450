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

The same tenant's applications in the admin console (DESIGN §8): an operator signs in through
the sign-in form once, and wrk loads the console's list page (HTML, 25 rows, sorted by name) with
that browser's cookies: the first page, a page from the middle (keyset cursor), and a prefix
search that matches a tenth of the clients.

Results: a table on stdout and bench/results/latest.json (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import html
import json
import os
import re
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import harness
import httpx
from harness import CLIENT_CPU, SERVER_CPU, TENANT, Load
from sqlalchemy import text
from sqlalchemy.engine import make_url

from pforte.domain.ids import SYSTEM_TENANT
from pforte.domain.pagination import encode_cursor
from pforte.domain.roles import ADMIN_ROLE
from pforte.domain.users import UserSpec
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.store.tables import ClientRow, UserRow

RESULTS = harness.RESULTS_DIR / "latest.json"
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PAGE = 50


@dataclass(kw_only=True)
class Row(Load):
    db: str
    n: int
    page: str


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


def username(i: int) -> str:
    return f"bench-user-{i:06d}"


def tenth_prefix(n: int) -> str:
    """A username prefix that a tenth of n users have (n a power of ten): 100 → bench-user-00001."""
    digits = len(str(n - 1))
    return f"bench-user-{'0' * (6 - digits)}1"


def client_id(i: int) -> str:
    return f"bench-client-{i:06d}"


CONSOLE_USER, CONSOLE_PASSWORD = "bench-operator", "bench-operator-password-0123"


async def seed(url: str, n: int) -> str:
    """Migrate, initialise, create the tenant and n clients, and the console's operator; return
    the operator API key."""
    async with harness.context(url) as ctx:
        api_key, tenant = await harness.seed_tenant(ctx)
        await user_service.create_user(
            ctx,
            SYSTEM_PRINCIPAL,
            SYSTEM_TENANT,
            UserSpec(username=CONSOLE_USER),
            password=CONSOLE_PASSWORD,
            roles=[ADMIN_ROLE],
        )
        now = datetime.now(UTC)
        rows = harness.client_rows(tenant.id, [client_id(i) for i in range(n)], now)
        await harness.insert_rows(ctx, ClientRow.__table__, rows)
        users = harness.user_rows(tenant.id, [username(i) for i in range(n)], now)
        await harness.insert_rows(ctx, UserRow.__table__, users)
        # Fresh planner statistics, as autovacuum / a routine ANALYZE would have by then.
        async with ctx.db.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
        return api_key


# --- measuring ---------------------------------------------------------------------------------


def measure(
    db: str, n: int, page: str, url: str, header: str, pid: int, args: argparse.Namespace
) -> tuple[Row, str]:
    load, raw = harness.measure(
        url,
        pid,
        seconds=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        headers=[header],
    )
    return Row(db=db, n=n, page=page, **dataclasses.asdict(load)), raw


def console_cookies(base: str) -> str:
    """Sign in to the admin console as a browser does; the Cookie header it then sends."""
    with httpx.Client(base_url=base, timeout=30) as http:
        start = http.get(f"/t/{SYSTEM_TENANT}/admin/")
        page = http.get(start.headers["location"])
        action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text))
        assert action is not None, page.text[:500]
        fields = {k: html.unescape(v) for k, v in fields.items()}
        answer = http.post(
            action.group(1), data={**fields, "username": CONSOLE_USER, "password": CONSOLE_PASSWORD}
        )
        back = http.get(answer.headers["location"])
        assert back.status_code == 303, back.text[:500]
        return "; ".join(f"{c.name}={c.value}" for c in http.cookies.jar)


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
            # every tenant also holds the consoles' built-in clients ("pforte-…", after these)
            ids = [item["clientId"] for item in body["items"] if not item["clientId"].startswith("pforte-")]
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
                with harness.server(url, Path(tmp)) as srv:
                    base, pid = srv.base, srv.pid
                    walked, middle = walk(kind, base, api_key, n)
                    walks.append(walked)
                    print(
                        f"[{kind} N={n:,}] walked {walked.pages} pages: {walked.ms_per_page:.2f} ms/page",
                        flush=True,
                    )
                    list_url = f"{base}/api/admin/v1/tenants/{TENANT}/clients?limit={PAGE}"
                    console = f"{base}/t/{SYSTEM_TENANT}/admin/{TENANT}/applications?sort=name"
                    middle_id = client_id(n // 2 - 1)
                    name_cursor = encode_cursor(json.dumps([middle_id.lower(), middle_id]))
                    cookie = console_cookies(base)
                    users_url = f"{base}/api/users/v1/tenants/{TENANT}/users?limit={PAGE}"
                    users_middle = encode_cursor(username(n // 2 - 1))
                    bearer = f"Authorization: Bearer {api_key}"
                    pages = (
                        ("first", list_url, f"Authorization: Bearer {api_key}"),
                        ("middle", f"{list_url}&cursor={middle}", f"Authorization: Bearer {api_key}"),
                        ("console first", console, f"Cookie: {cookie}"),
                        ("console middle", f"{console}&cursor={name_cursor}", f"Cookie: {cookie}"),
                        ("console search", f"{console}&q=bench-client-01", f"Cookie: {cookie}"),
                        ("users first", users_url, bearer),
                        ("users middle", f"{users_url}&cursor={users_middle}", bearer),
                        # a prefix of the username, e-mail, given or family name (four index
                        # ranges): ten matches at either size, then a tenth of the users
                        ("users search", f"{users_url}&search=bench-user-00001", bearer),
                        ("users search 10%", f"{users_url}&search={tenth_prefix(n)}", bearer),
                    )
                    for page, url_, header in pages:
                        row, out = measure(kind, n, page, url_, header, pid, args)
                        rows.append(row)
                        raw[f"{kind}/{n}/{page}"] = out
                        print(
                            f"[{kind} N={n:,} {page}] {row.rps:,.0f} req/s, p50 {row.p50_ms:.2f} ms, "
                            f"p99 {row.p99_ms:.2f} ms, non-2xx {row.non_2xx}",
                            flush=True,
                        )
    return {"rows": rows, "walks": walks, "raw": raw, "postgres_skipped": skipped}


def table(rows: list[Row], walks: list[Walk]) -> str:
    loads = harness.markdown(
        "db | N clients> | page | req/s> | p50 ms> | p99 ms> | non-2xx> | server CPU ms/req>",
        (
            (
                r.db,
                f"{r.n:,}",
                r.page,
                f"{r.rps:,.0f}",
                f"{r.p50_ms:.2f}",
                f"{r.p99_ms:.2f}",
                r.non_2xx + r.socket_errors,
                f"{r.server_cpu_ms_per_req or 0:.2f}",
            )
            for r in rows
        ),
    )
    walked = harness.markdown(
        "db | N clients> | pages walked> | total s> | ms/page> | first page ms> | last page ms>",
        (
            (
                w.db,
                f"{w.n:,}",
                f"{w.pages:,}",
                f"{w.seconds:.2f}",
                f"{w.ms_per_page:.2f}",
                f"{w.first_page_ms:.2f}",
                f"{w.last_page_ms:.2f}",
            )
            for w in walks
        ),
    )
    return f"{loads}\n\n{walked}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100, 100_000])
    harness.timing_arguments(parser)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    problem = harness.preflight()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    harness.pin_self()  # seeding and the walk stay off the server's CPU

    started = time.perf_counter()
    result = run(args)
    rows, walks = result["rows"], result["walks"]
    print()
    print(
        "Benchmark 1: list clients page by page "
        "(GET …/tenants/bench/clients?limit=50; the console's list, 25 rows)"
    )
    print(table(rows, walks))
    print(f"\n({time.perf_counter() - started:.0f} s)")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "list clients page by page",
        "date": harness.now_iso(),
        "machine": harness.machine(),
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
    print(f"written: {RESULTS.relative_to(harness.ROOT)}")
    failed = [r for r in rows if r.non_2xx or r.socket_errors]
    if failed:
        print(f"{len(failed)} run(s) had non-2xx responses or socket errors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
