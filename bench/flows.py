"""`make bench-flows` (also part of `make bench`): the user grants at the token endpoint.

On SQLite (the embedded default) and, when it is reachable, PostgreSQL (a throwaway database),
against a real `pforte serve` with the default settings, one process pinned to CPU 0 and wrk
(1 thread) pinned to CPU 1, 64 connections, 2 s warm-up discarded, then --duration seconds:

  - authorization_code: POST /t/bench/token exchanging single-use codes (client_secret_basic).
    Codes are seeded straight into the table (one user, one confidential client with
    `allowOfflineAccess`, no PKCE challenge, valid for an hour instead of 60 s so that seeding
    is not raced by the clock); each exchange issues an access token, an ID token (`openid`)
    and a refresh token. The sign-in form is not part of this figure.
  - refresh_token: POST /t/bench/token rotating single-use refresh tokens (seeded the same way).
  - client_credentials in the same sitting, for scale.

Every credential is used once: wrk walks a file of request bodies (BENCH_BODY_FILE); the warm-up
and the measured run take disjoint lines. A 2xx must carry an access token; anything else is
counted. node-oidc-provider's refresh grant is not driven: ../shared/peers/ loads only
client_credentials.

    .venv/bin/python bench/flows.py [--duration 10] [--pool 60000] [--skip-postgres]

With --callgrind, no server and no wrk: the token endpoint's handler (`form_dispatch.handle`)
is called in one process under valgrind's callgrind, cache warm, and the instructions of
--requests code exchanges and --requests refreshes are counted (after 30 uncounted of each).
Wall-clock figures on this shared 2-core machine move by 20-40 % between sittings; these
counts move by less than 0.1 %, so a change's effect shows in one run of each side:

    .venv/bin/python bench/flows.py --callgrind [--requests 100] [--skip-postgres]
    PYTHONPATH=OTHER_CHECKOUT .venv/bin/python bench/flows.py --callgrind   # the other side
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import harness
from harness import RESULTS_DIR, TENANT

from pforte.domain import credentials as cred
from pforte.domain.clients import ClientSpec
from pforte.domain.clock import utcnow
from pforte.domain.users import UserSpec
from pforte.services import clients as client_service
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.store.tables import AuthorizationCodeRow, RefreshTokenRow

RESULTS = RESULTS_DIR / "flows.json"
REDIRECT = "https://app.example.com/cb"
CLIENT = "web"
PG_ADMIN = os.environ.get("PFORTE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


async def seed(url: str, pool: int, workdir: Path) -> dict[str, Any]:
    """The tenant, a user, a client; `pool` codes and `pool` refresh tokens; the body files."""
    async with harness.context(url) as ctx:
        _, tenant = await harness.seed_tenant(ctx)
        user = await user_service.create_user(ctx, SYSTEM_PRINCIPAL, TENANT, UserSpec(username="ada"))
        spec = ClientSpec(
            client_id=CLIENT,
            allowed_grant_types=["client_credentials", "authorization_code", "refresh_token"],
            allowed_scopes=["openid", "profile"],
            redirect_uris=[REDIRECT],
            allow_offline_access=True,
            allow_no_pkce=True,
        )
        client, secret = await client_service.create_client(ctx, SYSTEM_PRINCIPAL, TENANT, spec)
        assert secret is not None
        now = utcnow()
        codes = [secrets.token_urlsafe(32) for _ in range(pool)]
        refreshes = [cred.new_value(cred.Kind.REFRESH_TOKEN) for _ in range(pool)]
        common = {
            "tenant_id": tenant.id,
            "client_pk": client.id,
            "user_id": user.id,
            "auth_time": now,
            "created_at": now,
        }
        await harness.insert_rows(
            ctx,
            AuthorizationCodeRow.__table__,  # type: ignore[arg-type]
            [
                {
                    **common,
                    "code_hash": ctx.hasher.hash(code),
                    "session_id": None,
                    "redirect_uri": REDIRECT,
                    "scopes": ["openid", "profile"],
                    "nonce": None,
                    "code_challenge": None,
                    "sid": None,
                    "expires_at": now + timedelta(hours=1),
                    "used_at": None,
                    "issued_jti": None,
                    "issued_jti_expires_at": None,
                    "issued_family_id": None,
                }
                for code in codes
            ],
        )
        await harness.insert_rows(
            ctx,
            RefreshTokenRow.__table__,  # type: ignore[arg-type]
            [
                {
                    **common,
                    "id": uuid.uuid4(),
                    "token_hash": ctx.hasher.hash(value),
                    "family_id": uuid.uuid4(),
                    "session_id": None,
                    "scopes": ["openid", "profile"],
                    "sid": None,
                    "expires_at": now + timedelta(days=1),
                    "used_at": None,
                    "revoked_at": None,
                }
                for value in refreshes
            ],
        )
    code_file, refresh_file = workdir / "codes.txt", workdir / "refresh.txt"
    code_file.write_text(
        "\n".join(
            urlencode({"grant_type": "authorization_code", "code": c, "redirect_uri": REDIRECT})
            for c in codes
        )
    )
    refresh_file.write_text(
        "\n".join(urlencode({"grant_type": "refresh_token", "refresh_token": r}) for r in refreshes)
    )
    basic = base64.b64encode(f"{CLIENT}:{secret.value}".encode()).decode()
    return {"basic": f"Basic {basic}", "codes": code_file, "refresh": refresh_file}


def measure(
    srv: harness.Server, seeded: dict[str, Any], kind: str, args: argparse.Namespace
) -> dict[str, Any]:
    url = f"{srv.base}/t/{TENANT}/token"
    common: dict[str, Any] = {
        "seconds": args.duration,
        "warmup": args.warmup,
        "connections": 64,
        "headers": [f"Authorization: {seeded['basic']}"],
    }
    expect = {"BENCH_EXPECT": "access_token"}
    if kind == "client_credentials":
        env = {"BENCH_BODY": "grant_type=client_credentials", **expect}
        load, _ = harness.measure(url, srv.pid, env=env, **common)
    else:
        path = seeded["codes" if kind == "authorization_code" else "refresh"]
        used = args.pool // 3  # the warm-up takes far fewer; the measured run starts past them
        load, _ = harness.measure(url, srv.pid, env=expect, body_file=path, measured_from=used, **common)
        if load.requests + used > args.pool:
            raise SystemExit(f"{kind}: the pool of {args.pool} ran out; raise --pool")
    return {"grant": kind, **load.__dict__}


# --- instructions per request (callgrind) ------------------------------------------------------

BODIES = {"authorization_code": "codes", "refresh_token": "refresh"}
CALLGRIND_WARMUP = 30


async def counted_requests(url: str, basic: str, bodies: dict[str, list[str]], requests: int) -> None:
    """Runs under valgrind: for each user grant, CALLGRIND_WARMUP uncounted calls of the token
    handler, then `requests` counted ones, dumped under the grant's name."""
    from pforte.web.protocol.form_dispatch import ENDPOINTS, handle  # the app loads here only

    def control(*command: str) -> None:
        subprocess.run(["callgrind_control", *command, str(os.getpid())], check=True, capture_output=True)

    async with harness.context(url) as ctx:
        for grant in BODIES:
            lines = iter(bodies[grant])
            for call in range(CALLGRIND_WARMUP + requests):
                if call == CALLGRIND_WARMUP:
                    control("-i", "on")
                body = next(lines).encode()
                scope = {
                    "type": "http",
                    "method": "POST",
                    "path": f"/t/{TENANT}/token",
                    "headers": [
                        (b"content-type", b"application/x-www-form-urlencoded"),
                        (b"authorization", basic.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }

                async def receive(body: bytes = body) -> dict[str, Any]:
                    return {"type": "http.request", "body": body, "more_body": False}

                reply = await handle(ctx, ENDPOINTS["token"], TENANT, scope, receive)
                if reply.status != 200:
                    raise SystemExit(f"{grant} answered {reply.status}: {reply.body!r}")
            control("-d", grant)
            control("-i", "off")


def instructions(url: str, workdir: Path, requests: int) -> dict[str, float]:
    """Instructions per request of each user grant on the database at `url`."""
    seeded = asyncio.run(seed(url, CALLGRIND_WARMUP + requests, workdir))
    (workdir / "seeded.json").write_text(json.dumps({k: str(v) for k, v in seeded.items()}))
    out = workdir / "callgrind.out"
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    command += [sys.executable, __file__, "--counted-run", url, str(workdir), str(requests)]
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    counts: dict[str, float] = {}
    for number, grant in enumerate(BODIES, 1):  # one dump per grant, in order
        match = re.search(r"^totals:\s+(\d+)", Path(f"{out}.{number}").read_text(errors="replace"), re.M)
        if match is None:
            raise SystemExit(f"no totals in {out}.{number}")
        counts[grant] = int(match.group(1)) / requests
    return counts


def callgrind(kind: str, url: str, workdir: Path, requests: int) -> None:
    for grant, count in instructions(url, workdir, requests).items():
        print(f"  {kind:10} {grant:18} {count:12,.0f} instructions per request", flush=True)


async def postgres_url() -> str | None:
    name = f"pforte_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = await asyncpg.connect(PG_ADMIN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def drop_postgres(url: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN, timeout=3)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


def each_database(
    databases: list[tuple[str, str | None]], work: Path, run: Callable[[str, str, Path], None]
) -> None:
    """`run(kind, url, workdir)` for each reachable database, in a work folder of its own; a
    throwaway PostgreSQL database is dropped after its turn."""
    for kind, url in databases:
        if url is None:
            print(f"{kind}: not reachable, skipped", file=sys.stderr)
            continue
        workdir = work / kind
        workdir.mkdir()
        try:
            run(kind, url, workdir)
        finally:
            if kind == "postgresql":
                asyncio.run(drop_postgres(url))


def summary(row: dict[str, Any]) -> str:
    return (
        f"{row['rps']:,.0f} req/s, p50 {row['p50_ms']:.2f} ms, p99 {row['p99_ms']:.2f} ms, "
        f"non-2xx {row['non_2xx']}, bad body {row['bad_body']}, RSS {row['server_rss_mb']:.0f} MB, "
        f"CPU {row['server_cpu_ms_per_req'] * 1000:.0f} µs/req"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    harness.timing_arguments(parser)
    parser.add_argument("--pool", type=int, default=60_000, help="codes and refresh tokens seeded, each")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--callgrind", action="store_true", help="instructions per request instead")
    parser.add_argument("--requests", type=int, default=100, help="counted requests per grant (--callgrind)")
    parser.add_argument("--counted-run", nargs=3, help=argparse.SUPPRESS)  # under valgrind
    args = parser.parse_args()
    if args.counted_run:
        url, workdir, requests = args.counted_run
        seeded = json.loads((Path(workdir) / "seeded.json").read_text())
        bodies = {grant: Path(seeded[name]).read_text().splitlines() for grant, name in BODIES.items()}
        asyncio.run(counted_requests(url, seeded["basic"], bodies, int(requests)))
        return 0
    harness.pin_self()
    rows: list[dict[str, Any]] = []
    databases: list[tuple[str, str | None]] = []
    with tempfile.TemporaryDirectory(prefix="pforte-bench-flows-") as tmp:
        work = Path(tmp)
        databases.append(("sqlite", f"sqlite+aiosqlite:///{work / 'sqlite.db'}"))
        if not args.skip_postgres:
            databases.append(("postgresql", asyncio.run(postgres_url())))
        if args.callgrind:
            print(f"callgrind: token handler in one process, {args.requests} counted requests per grant")
            each_database(
                databases, work, lambda kind, url, workdir: callgrind(kind, url, workdir, args.requests)
            )
            return 0

        def run(kind: str, url: str, workdir: Path) -> None:
            seeded = asyncio.run(seed(url, args.pool, workdir))
            with harness.server(url, workdir, name=kind) as srv:
                for grant in ("client_credentials", "authorization_code", "refresh_token"):
                    row = {"database": kind, **measure(srv, seeded, grant, args)}
                    rows.append(row)
                    print(f"[{kind} {grant}] {summary(row)}", flush=True)

        each_database(databases, work, run)
    print(
        harness.markdown(
            "database | grant | req/s> | p50 ms> | p99 ms> | non-2xx> | bad body> | RSS MB> "
            "| server CPU µs/req>",
            [
                (
                    r["database"],
                    r["grant"],
                    f"{r['rps']:,.0f}",
                    f"{r['p50_ms']:.2f}",
                    f"{r['p99_ms']:.2f}",
                    r["non_2xx"],
                    r["bad_body"],
                    f"{r['server_rss_mb']:.0f}",
                    f"{r['server_cpu_ms_per_req'] * 1000:.0f}",
                )
                for r in rows
            ],
        )
    )
    RESULTS_DIR.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps({"machine": harness.machine(), "at": harness.now_iso(), "rows": rows}, indent=2)
    )
    print(f"written: {RESULTS.relative_to(harness.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
