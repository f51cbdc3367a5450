"""`make bench-tokens` (also part of `make bench`): Benchmark 2, the token service.

One SQLite database (the embedded default) is seeded once: the tenant `bench` (ES256 signing
key), its client `bench` (client_credentials, one secret) made through the client service, and
10,000 more clients with one secret each, inserted with SQLAlchemy Core (seeding is not
measured). Then, each against a real `pforte serve` with the default settings (access log on,
log level info — what a user runs; A' repeats the token run with PFORTE_ACCESS_LOG=false) and
wrk with bench/count_non2xx.lua (2 s warm-up discarded, then --duration seconds measured):

  A. uvicorn, one process pinned to CPU 0, wrk (1 thread) pinned to CPU 1: the per-core figure.
     POST /t/bench/token (client_credentials, client_secret_basic) at 16 and 64 connections;
     POST /t/bench/introspect of one live token at 16 and 64; the token endpoint with the
     10,000 clients round robin at 64 (each request carries the next client's Basic header;
     a discarded pass over all 10,000 clients first, so the run measures the steady state).
     Then a py-spy profile of that process during a 64-connection token run.
  B. the same with PFORTE_SERVER=granian, pinned the same way: token and introspection at 64.
  C. uvicorn --workers 2, not pinned, and wrk with 2 threads, not pinned either (on a 2-core
     machine the only option): token and introspection at 64.
  D. an in-process profile: the token endpoint's handler (`form_dispatch.handle`) called directly with
     a fake ASGI scope, timed and under cProfile: µs per request of our code and of signing.
  E. with --peers: node-oidc-provider (JWT ES256 token; opaque token introspection) from
     ../shared/peers, started pinned to CPU 0 and loaded with its own bench.sh (wrk on CPU 1),
     in the same sitting, plus Pforte through that same script as a cross-check.
  F. with --peers, the ratio rounds (--rounds, default 3): node-oidc-provider (JWT ES256), Pforte
     with the defaults and Pforte with /metrics on, each through the peers' bench.sh at 16 and 64
     connections, a fresh server each time, the order rotating from round to round; printed with
     each round's tokens/s, each round's ratio to node and the medians — the figure the 2× bar
     is read from (one 10 s run on a shared machine moves by 10-20 %).

Every 2xx answer must carry an access token (token) or "active": true (introspection);
others count as "bad body". Server RSS is VmRSS after the run, summed over the server's
processes; server CPU is utime + stime over the measured run, per request.

Results: a table on stdout, bench/results/tokens.json and the profiles in bench/results/
(git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import cProfile
import dataclasses
import importlib.util
import io
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus, urlencode

import harness
import httpx
from harness import ALL_CPUS, CLIENT_CPU, RESULTS_DIR, ROOT, SERVER_CPU, TENANT, Load

from pforte.domain import credentials as cred
from pforte.domain.clients import CLIENT_CREDENTIALS, ClientSpec
from pforte.domain.clock import utcnow
from pforte.domain.ids import new_id
from pforte.domain.oauth.access_tokens import client_credentials_claims
from pforte.services import clients as client_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.store.tables import ClientRow, ClientSecretRow

RESULTS = RESULTS_DIR / "tokens.json"
PY_SPY = Path(sys.executable).parent / "py-spy"
CLIENT = "bench"
TOKEN_BODY = "grant_type=client_credentials"
EXPECT_TOKEN = "access_token"
EXPECT_ACTIVE = '"active"%s*:%s*true'  # a Lua pattern
TOKEN, INTROSPECT, ROUND_ROBIN = "token", "introspect", "token, clients round robin"


@dataclass(kw_only=True)
class Row(Load):
    setup: str
    endpoint: str
    connections: int


@dataclass(frozen=True)
class Setup:
    key: str
    label: str
    runs: tuple[tuple[str, int], ...]
    env: dict[str, str] = field(default_factory=dict)
    server_cpus: str = SERVER_CPU
    wrk_cpus: str = CLIENT_CPU
    wrk_threads: int = 1


LOG_OFF = {"PFORTE_ACCESS_LOG": "false", "PFORTE_LOG_LEVEL": "warning"}
METRICS_TOKEN = "bench-metrics-token-0123456789abcdef"
SETUPS = (
    Setup(
        "uvicorn",
        "uvicorn, 1 process on CPU 0; wrk -t1 on CPU 1",
        ((TOKEN, 16), (TOKEN, 64), (INTROSPECT, 16), (INTROSPECT, 64), (ROUND_ROBIN, 64)),
    ),
    Setup(
        "uvicorn-log-off",
        "uvicorn, 1 process on CPU 0, PFORTE_ACCESS_LOG=false, level warning; wrk -t1 on CPU 1",
        ((TOKEN, 64),),
        env=LOG_OFF,
    ),
    Setup(
        "uvicorn-metrics",
        "uvicorn, 1 process on CPU 0, /metrics on (PFORTE_METRICS_TOKEN); wrk -t1 on CPU 1",
        ((TOKEN, 16), (TOKEN, 64)),
        env={"PFORTE_METRICS_TOKEN": METRICS_TOKEN},
    ),
    Setup(
        "granian",
        "granian, 1 process on CPU 0; wrk -t1 on CPU 1",
        ((TOKEN, 64), (INTROSPECT, 64)),
        env={"PFORTE_SERVER": "granian"},
    ),
    Setup(
        "workers2",
        "uvicorn --workers 2, not pinned; wrk -t2, not pinned (2 cores shared)",
        ((TOKEN, 64), (INTROSPECT, 64)),
        env={"PFORTE_WORKERS": "2"},
        server_cpus=ALL_CPUS,
        wrk_cpus=ALL_CPUS,
        wrk_threads=2,
    ),
)


@dataclass(frozen=True)
class Seeded:
    url: str
    secret: str  # of the client `bench`
    headers_file: Path  # one `Basic …` value a line, one line per round-robin client
    clients: int


def basic(client_id: str, secret: str) -> str:
    """The Authorization value of client_secret_basic (RFC 6749 §2.3.1: form-encoded first)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def rr_client_id(i: int) -> str:
    return f"rr-client-{i:06d}"


# --- seeding -----------------------------------------------------------------------------------


async def seed(url: str, n: int) -> tuple[str, list[str]]:
    """The tenant, the client `bench` (through the client service) and n clients with one secret
    each (rows as services.credentials.issue_secret builds them); return `bench`'s secret and
    the n clients' Basic authorization values."""
    async with harness.context(url) as ctx:
        _, tenant = await harness.seed_tenant(ctx)
        spec = ClientSpec(client_id=CLIENT, allowed_grant_types=[CLIENT_CREDENTIALS])
        _, created = await client_service.create_client(ctx, SYSTEM_PRINCIPAL, TENANT, spec)
        assert created is not None
        now = utcnow()
        window = cred.secret_window(now=now, start=None, expiration=None)
        assert window.expiration is not None
        clients = harness.client_rows(tenant.id, [rr_client_id(i) for i in range(n)], now)
        values = [cred.new_value(cred.Kind.CLIENT_SECRET) for _ in clients]
        secrets = [
            {
                "id": new_id(),
                "tenant_id": tenant.id,
                "client_pk": client["id"],
                "description": "bench",
                "value_hash": ctx.hasher.hash(value),
                "value_display": cred.display(value, cred.Kind.CLIENT_SECRET),
                "start_time": window.start,
                "expiration": window.expiration,
                "created_at": now,
                "last_used_at": None,
            }
            for client, value in zip(clients, values, strict=True)
        ]
        await harness.insert_rows(ctx, ClientRow.__table__, clients)
        await harness.insert_rows(ctx, ClientSecretRow.__table__, secrets)
        headers = [basic(c["client_id"], v) for c, v in zip(clients, values, strict=True)]
        return created.value, headers


# --- against the server ------------------------------------------------------------------------


def fresh_token(token_url: str, client_id: str, secret: str) -> str:
    response = httpx.post(token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    response.raise_for_status()
    return str(response.json()["access_token"])


async def _one_pass(port: int, requests: list[bytes], connections: int) -> Counter[str]:
    """Send each request once over `connections` keep-alive connections; count the outcomes."""
    outcomes: Counter[str] = Counter()
    pending = iter(requests)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in pending:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                body = await reader.readexactly(int(length[1]) if length else 0)
                ok = 200 <= status < 300 and b"access_token" in body
                outcomes["ok" if ok else f"status {status}"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return outcomes


def warm_pass(srv: harness.Server, seeded: Seeded) -> dict[str, Any]:
    """One token request for every round-robin client, 64 connections, answers checked and
    otherwise discarded: afterwards the server's cache holds every client, so the measured run
    is the steady state. Each request of the pass loads its client from the database (the cold
    path). A small asyncio client of its own, not wrk: wrk cannot stop after N requests."""
    port = int(srv.base.rsplit(":", 1)[1])
    body = TOKEN_BODY.encode()
    requests = [
        (
            f"POST /t/{TENANT}/token HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {authorization}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for authorization in seeded.headers_file.read_text().splitlines()
    ]
    pids = harness.descendants(srv.pid)
    cpu_before = harness.cpu_seconds(pids)
    started = time.perf_counter()
    outcomes = asyncio.run(_one_pass(port, requests, 64))
    seconds = time.perf_counter() - started
    server_cpu = harness.cpu_seconds(pids) - cpu_before
    return {
        "clients": len(requests),
        "seconds": seconds,
        "failed": sum(n for outcome, n in outcomes.items() if outcome != "ok"),
        "outcomes": dict(outcomes),
        "server_cpu_ms_per_cold_request": server_cpu / max(len(requests), 1) * 1000,
    }


def run_one(
    srv: harness.Server,
    setup: Setup,
    endpoint: str,
    connections: int,
    seeded: Seeded,
    args: argparse.Namespace,
) -> tuple[Row, str]:
    token_url = f"{srv.base}/t/{TENANT}/token"
    url = token_url
    env = {"BENCH_BODY": TOKEN_BODY, "BENCH_EXPECT": EXPECT_TOKEN}
    headers = [f"Authorization: {basic(CLIENT, seeded.secret)}"]
    if endpoint == INTROSPECT:  # a fresh token each time: it must be live through the run
        url = f"{srv.base}/t/{TENANT}/introspect"
        token = fresh_token(token_url, CLIENT, seeded.secret)
        env = {"BENCH_BODY": urlencode({"token": token}), "BENCH_EXPECT": EXPECT_ACTIVE}
    elif endpoint == ROUND_ROBIN:
        env["BENCH_AUTH_FILE"] = str(seeded.headers_file)
        headers = []
    load, raw = harness.measure(
        url,
        srv.pid,
        seconds=args.duration,
        warmup=args.warmup,
        connections=connections,
        threads=setup.wrk_threads,
        cpus=setup.wrk_cpus,
        headers=headers,
        env=env,
    )
    label = f"{endpoint} ({seeded.clients:,})" if endpoint == ROUND_ROBIN else endpoint
    return Row(setup=setup.label, endpoint=label, connections=connections, **dataclasses.asdict(load)), raw


def processes(pid: int) -> list[dict[str, Any]]:
    found = []
    for p in harness.descendants(pid):
        try:
            cmdline = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        found.append({"pid": p, "cmdline": cmdline[:120], "rss_mb": round(harness.rss_mb([p]), 1)})
    return found


# --- profiles ----------------------------------------------------------------------------------

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _function(frame: str) -> str:
    """`handle (pforte/web/protocol/form_dispatch.py:42)` → `handle (…/form_dispatch.py)`."""
    match = _FRAME.match(frame.strip())
    return f"{match['function']} ({match['file']})" if match else frame.strip()


def summarise_collapsed(text: str, us_per_request: float | None, top: int) -> tuple[str, dict[str, Any]]:
    """py-spy's raw (collapsed) stacks → the top functions by self and by inclusive samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        functions = [_function(f) for f in stack.split(";") if f]
        if not functions:
            continue
        total += count
        own[functions[-1]] += count
        for function in set(functions):
            inclusive[function] += count
    lines = [f"{total:,} samples (only while the server's thread was running: idle is not sampled)"]
    if us_per_request is not None:
        lines.append(f"server CPU per token request over the profiled run: {us_per_request:.0f} µs")
    summary: dict[str, Any] = {"samples": total, "server_cpu_us_per_request": us_per_request}
    for title, counts in (("self", own), ("inclusive", inclusive)):
        lines += ["", f"top {top} by {title} time:", f"{'%':>6} {'µs/req':>7}  function"]
        entries = []
        for function, count in counts.most_common(top):
            share = count / max(total, 1)
            us = share * us_per_request if us_per_request is not None else None
            lines.append(f"{share * 100:6.1f} {us or 0:7.0f}  {function}")
            entries.append({"function": function, "share": share, "us_per_request": us})
        summary[title] = entries
    return "\n".join(lines) + "\n", summary


def pyspy_profile(srv: harness.Server, seeded: Seeded, args: argparse.Namespace) -> dict[str, Any]:
    """py-spy (--nonblocking: the server is never paused) on the pinned uvicorn process while wrk
    drives the token endpoint at 64 connections."""
    if not PY_SPY.exists():
        return {"skipped": f"{PY_SPY} not found (it comes with the dev extra: make install)"}
    raw_path = RESULTS_DIR / "tokens-pyspy-raw.txt"
    seconds = args.duration
    command = [str(PY_SPY), "record", "--nonblocking", "--format", "raw", "--rate", "250"]
    command += ["--duration", str(seconds + 1), "--pid", str(srv.pid), "--output", str(raw_path)]
    spy = subprocess.Popen(
        harness.pinned(CLIENT_CPU, command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    time.sleep(0.5)  # attached
    pids = harness.descendants(srv.pid)
    cpu_before = harness.cpu_seconds(pids)
    got = harness.wrk(
        f"{srv.base}/t/{TENANT}/token",
        seconds,
        connections=64,
        latency=False,
        headers=[f"Authorization: {basic(CLIENT, seeded.secret)}"],
        env={"BENCH_BODY": TOKEN_BODY, "BENCH_EXPECT": EXPECT_TOKEN},
    )
    cpu = harness.cpu_seconds(pids) - cpu_before
    spy_output, _ = spy.communicate(timeout=seconds + 60)
    if spy.returncode != 0 or not raw_path.exists():
        return {"skipped": f"py-spy failed ({spy.returncode}): {spy_output.strip()[-500:]}"}
    us = cpu / max(got["requests"], 1) * 1e6
    collapsed = raw_path.read_text()
    text, summary = summarise_collapsed(collapsed, us, args.top)
    total = summary["samples"]
    rooted = sum(
        int(line.rpartition(" ")[2])
        for line in collapsed.splitlines()
        if line.startswith("_run_module_as_main")
    )
    header = (
        f"py-spy record --nonblocking --rate 250 on `pforte serve` (uvicorn, pinned to CPU {SERVER_CPU}) "
        f"during {seconds} s of wrk -c64 on POST /t/{TENANT}/token ({got['requests']:,} requests, "
        f"{got['non2xx']} non-2xx).\n"
        f"Stacks rooted at main(): {rooted / max(total, 1) * 100:.0f} % of the samples. The others start at "
        "an inner frame (--nonblocking reads the stack without pausing the process, while the "
        "event loop switches coroutines). So trust the self-time table; inclusive time "
        "is a lower bound. Time in the event loop and HTTP parsing (uvloop, httptools: C) lands on "
        "the nearest Python frame. bench/results/tokens-cprofile.txt is the deterministic view.\n\n"
    )
    out = RESULTS_DIR / "tokens-pyspy.txt"
    out.write_text(header + text)
    print(header + text, flush=True)
    return {
        "summary_file": str(out.relative_to(ROOT)),
        "raw_file": str(raw_path.relative_to(ROOT)),
        **summary,
    }


async def _inprocess(url: str, secret: str, n: int, top: int) -> tuple[str, dict[str, Any]]:
    # the app's modules load here, not for the load runs
    from pforte.web.protocol.form_dispatch import ENDPOINTS, handle

    body = TOKEN_BODY.encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/t/{TENANT}/token",
        "headers": [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"authorization", basic(CLIENT, secret).encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    endpoint = ENDPOINTS["token"]
    async with harness.context(url) as ctx:

        async def requests(count: int) -> None:
            for _ in range(count):
                reply = await handle(ctx, endpoint, TENANT, scope, receive)
                if reply.status != 200:
                    raise AssertionError(f"the token handler answered {reply.status}: {reply.body!r}")

        await requests(200)  # the cache holds the tenant, its key and the client
        started = time.perf_counter()
        await requests(n)
        handler_us = (time.perf_counter() - started) / n * 1e6

        tenant = await ctx.cache.tenant(TENANT)
        assert tenant is not None
        key = tenant.signing_key(utcnow())
        assert key is not None
        claims = client_credentials_claims(
            issuer=tenant.issuer,
            audience=tenant.audience,
            client_id=CLIENT,
            binding="bench-tag",
            scopes=[],
            now=int(time.time()),
            lifetime=300,
        )
        started = time.perf_counter()
        for _ in range(n):
            key.signer.sign(claims)
        sign_us = (time.perf_counter() - started) / n * 1e6
        started = time.perf_counter()
        for _ in range(n):
            ctx.hasher.hash(secret)
        hash_us = (time.perf_counter() - started) / n * 1e6

        profiler = cProfile.Profile()
        profiler.enable()
        await requests(n)
        profiler.disable()

    report = io.StringIO()
    stats = pstats.Stats(profiler, stream=report)
    stats.strip_dirs()
    for order in ("tottime", "cumulative"):
        report.write(f"\n--- sorted by {order} ---\n")
        stats.sort_stats(order).print_stats(top)
    summary = {
        "requests": n,
        "handler_us_per_request": handler_us,
        "es256_sign_us": sign_us,
        "secret_hash_us": hash_us,
        "handler_without_signing_us": handler_us - sign_us,
    }
    text = (
        f"form_dispatch.handle(ctx, ENDPOINTS['token'], {TENANT!r}, scope, receive), called {n:,} times "
        f"in one process pinned to CPU {SERVER_CPU}, cache warm, no HTTP server:\n"
        f"  the handler, whole:          {handler_us:7.1f} µs/request\n"
        f"  of which ES256 signing:      {sign_us:7.1f} µs (CompactSigner.sign alone)\n"
        f"  of which the secret's HMAC:  {hash_us:7.1f} µs\n"
        f"  the handler without signing: {handler_us - sign_us:7.1f} µs\n"
        f"\ncProfile of the same {n:,} calls (its overhead inflates small functions):\n"
    )
    return text + report.getvalue(), summary


def inprocess_profile(seeded: Seeded, args: argparse.Namespace) -> dict[str, Any]:
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(SERVER_CPU)})  # no server runs now: take its core
    try:
        text, summary = asyncio.run(_inprocess(seeded.url, seeded.secret, args.profile_requests, args.top))
    finally:
        os.sched_setaffinity(0, before)
    out = RESULTS_DIR / "tokens-cprofile.txt"
    out.write_text(text)
    print(text.split("\ncProfile")[0], flush=True)
    return {"file": str(out.relative_to(ROOT)), **summary}


# --- peers -------------------------------------------------------------------------------------

PEER_RUNS = (
    ("oidc-provider-jwt", "node-oidc-provider, JWT ES256", TOKEN, (16, 64)),
    ("oidc-provider-opaque", "node-oidc-provider, opaque", INTROSPECT, (64,)),
)


def peers_home() -> Path | None:
    for candidate in (ROOT.parent / "shared" / "peers", Path("/work/shared/peers")):
        if (candidate / "bench.sh").exists() and (candidate / "run_all.py").exists():
            return candidate
    return None


def load_run_all(home: Path) -> ModuleType:
    """The peers' own table of how each peer is started (run_all.PEERS), read, not run."""
    spec = importlib.util.spec_from_file_location("peers_run_all", home / "run_all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # the folder is not ours
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


def peer_bench(home: Path, script: str, arguments: list[str], pid: int) -> tuple[Load, str]:
    """One run of the peers' bench.sh / bench-introspect.sh (its own 2 s warm-up, wrk on CPU 1)."""
    env = {**os.environ, "SERVER_PID": ",".join(map(str, harness.descendants(pid)))}
    result = subprocess.run(
        [str(home / script), *arguments], capture_output=True, text=True, timeout=600, env=env, check=False
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH")), None)
    if line is None:
        raise RuntimeError(f"{script} failed: {result.stdout[-300:]} {result.stderr[-300:]}")
    got = {k: float(v) for k, v in (part.split("=", 1) for part in line.split()[1:])}
    load = Load(
        rps=got["rps"],
        p50_ms=got["p50_ms"],
        p90_ms=None,
        p99_ms=got["p99_ms"],
        max_ms=None,
        requests=int(got.get("requests", 0)),
        non_2xx=int(got["non2xx"]),
        socket_errors=int(got["sock_err"]),
        bad_body=int(got.get("bad_body", 0)),
        server_rss_mb=harness.rss_mb(harness.descendants(pid)),
    )
    return load, line


@contextlib.contextmanager
def peer_server(home: Path, peer: dict[str, Any], workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A peer as ../shared/peers starts it (run_all.PEERS), pinned to CPU 0, until its port answers."""
    name, port = peer["name"], int(peer["port"])
    log_path = workdir / f"peer-{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            harness.pinned(SERVER_CPU, peer["cmd"]),
            cwd=home / peer["dir"],
            env={**os.environ, **peer.get("env", {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            harness.wait_ready(proc, lambda: harness.port_open(port), name, log_path)
            yield proc
        finally:
            harness.stop(proc)


# The ratio rounds: node-oidc-provider (JWT ES256) and the two Pforte setups the 2× bar is about,
# each through the peers' own bench.sh (one harness for both sides), round after round.
NODE_JWT = "oidc-provider-jwt"
ROUND_SETUPS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("node", "node-oidc-provider, JWT ES256", {}),
    ("defaults", "Pforte defaults", {}),
    ("metrics", "Pforte defaults + /metrics", {"PFORTE_METRICS_TOKEN": METRICS_TOKEN}),
)
ROUND_CONNECTIONS = (16, 64)


def ratio_rounds(seeded: Seeded, workdir: Path, args: argparse.Namespace) -> dict[str, Any] | None:
    """``--rounds`` rounds; in each, every setup of ROUND_SETUPS gets a fresh server and one run per
    connection count of ROUND_CONNECTIONS, the order rotating from round to round (nobody always
    runs first, or right after the same neighbour). One 10 s run on a shared machine moves by
    10-20 %; the median of the rounds, and each round's own ratio, say what holds."""
    home = peers_home()
    if home is None or args.rounds < 1:
        return None
    run_all = load_run_all(home)
    peer = next(p for p in run_all.PEERS if p["name"] == NODE_JWT)
    if harness.port_open(int(peer["port"])):
        return None
    secs = str(int(args.duration))
    rps: dict[str, dict[int, list[float]]] = {
        key: {c: [] for c in ROUND_CONNECTIONS} for key, _, _ in ROUND_SETUPS
    }

    @contextlib.contextmanager
    def target(key: str, env: dict[str, str]) -> Iterator[tuple[int, str, str, str]]:
        """A fresh server for ``key``: its pid, token URL, client id and secret."""
        if key == "node":
            with peer_server(home, peer, workdir) as proc:
                yield (
                    proc.pid,
                    f"http://127.0.0.1:{peer['port']}{peer['path']}",
                    peer["client"],
                    run_all.SECRET,
                )
        else:
            with harness.server(seeded.url, workdir, env=env, name=f"pforte-round-{key}") as srv:
                yield srv.pid, f"{srv.base}/t/{TENANT}/token", CLIENT, seeded.secret

    for round_no in range(args.rounds):
        shift = round_no % len(ROUND_SETUPS)
        for key, _label, env in ROUND_SETUPS[shift:] + ROUND_SETUPS[:shift]:
            with target(key, env) as (pid, url, client, secret):
                fresh_token(url, client, secret)  # also: it works
                for connections in ROUND_CONNECTIONS:
                    load, line = peer_bench(
                        home, "bench.sh", [url, client, secret, str(connections), secs], pid
                    )
                    if load.non_2xx or load.socket_errors or load.bad_body:
                        raise RuntimeError(
                            f"round {round_no + 1}, {key} c{connections}: failed requests: {line}"
                        )
                    rps[key][connections].append(load.rps)
                    print(f"[round {round_no + 1} {key} c{connections}] {line}", flush=True)
    ratios = {
        key: {
            c: [ours / node for ours, node in zip(rps[key][c], rps["node"][c], strict=True)]
            for c in ROUND_CONNECTIONS
        }
        for key, _, _ in ROUND_SETUPS[1:]
    }
    return {"rounds": args.rounds, "script": "../shared/peers/bench.sh", "rps": rps, "ratios": ratios}


def round_lines(rounds: dict[str, Any] | None) -> list[str]:
    """The ratio rounds as printed: tokens/s per round, the median, and each round's ratio."""
    if rounds is None:
        return []
    lines = [
        f"ratio rounds ({rounds['rounds']}; every setup through the peers' bench.sh, wrk on CPU 1, "
        "server pinned to CPU 0, fresh server per round):"
    ]
    for key, label, _ in ROUND_SETUPS:
        for c in ROUND_CONNECTIONS:
            runs = rounds["rps"][key][c]
            line = (
                f"  {label:30} c{c}: "
                + ", ".join(f"{x:,.0f}" for x in runs)
                + f" tokens/s (median {statistics.median(runs):,.0f})"
            )
            if key in rounds["ratios"]:
                ratio = rounds["ratios"][key][c]
                line += (
                    "; ÷ node, round by round: "
                    + ", ".join(f"{r:.2f}×" for r in ratio)
                    + f", median {statistics.median(ratio):.2f}×"
                )
            lines.append(line)
    return lines


def peers(
    seeded: Seeded, workdir: Path, args: argparse.Namespace
) -> tuple[list[Row], dict[str, str], str | None]:
    """node-oidc-provider as ../shared/peers starts it, pinned to CPU 0, loaded by its bench.sh;
    then Pforte (uvicorn, CPU 0) through the same bench.sh. Skipped, with the reason, without
    the peers' folder or installs."""
    home = peers_home()
    if home is None:
        return [], {}, "../shared/peers (bench.sh, run_all.py) not found"
    run_all = load_run_all(home)
    configs = {p["name"]: p for p in run_all.PEERS}
    needed = [Path(run_all.NODE), home / "node-oidc-provider" / "node_modules" / "oidc-provider"]
    missing = [str(path) for path in needed if not path.exists()]
    if missing:
        return [], {}, f"peer installs missing ({', '.join(missing)}): run {home}/setup.sh"
    rows: list[Row] = []
    raw: dict[str, str] = {}
    skipped: list[str] = []
    secs = str(int(args.duration))
    for name, label, endpoint, connection_counts in PEER_RUNS:
        peer = configs[name]
        port = int(peer["port"])
        if harness.port_open(port):
            skipped.append(f"{name}: port {port} is taken (a peer started by someone else?)")
            continue
        with peer_server(home, peer, workdir) as proc:
            base = f"http://127.0.0.1:{port}"
            token_url = base + peer["path"]
            for connections in connection_counts:
                token = fresh_token(token_url, peer["client"], run_all.SECRET)  # also: it works
                if endpoint == TOKEN:
                    script, arguments = "bench.sh", [token_url, peer["client"], run_all.SECRET]
                else:
                    script = "bench-introspect.sh"
                    arguments = [base + peer["intro"], peer["client"], run_all.SECRET, token]
                load, line = peer_bench(home, script, [*arguments, str(connections), secs], proc.pid)
                setup = f"{label} (pinned to CPU 0; peers' {script}, wrk on CPU 1)"
                rows.append(
                    Row(
                        setup=setup,
                        endpoint=endpoint,
                        connections=connections,
                        **dataclasses.asdict(load),
                    )
                )
                raw[f"peer/{name}/{endpoint}/{connections}"] = line
                print(f"[{name} {endpoint} c{connections}] {line}", flush=True)
    # The cross-check: Pforte through the peers' own script, so the two harnesses can be compared:
    # with the defaults (the headline) and with the access log off.
    for key, env, what in (("defaults", {}, "defaults"), ("log-off", LOG_OFF, "access log off")):
        with harness.server(seeded.url, workdir, env=env, name=f"pforte-peers-script-{key}") as srv:
            token_url = f"{srv.base}/t/{TENANT}/token"
            fresh_token(token_url, CLIENT, seeded.secret)
            load, line = peer_bench(home, "bench.sh", [token_url, CLIENT, seeded.secret, "64", secs], srv.pid)
            setup = f"Pforte, uvicorn, 1 process on CPU 0, {what} (peers' bench.sh, wrk on CPU 1)"
            rows.append(Row(setup=setup, endpoint=TOKEN, connections=64, **dataclasses.asdict(load)))
            raw[f"peer/pforte-{key}/token/64"] = line
            print(f"[pforte {what} via bench.sh token c64] {line}", flush=True)
    return rows, raw, "; ".join(skipped) or None


# --- main --------------------------------------------------------------------------------------


def granian_available() -> bool:
    return importlib.util.find_spec("granian") is not None


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows: list[Row] = []
    raw: dict[str, str] = {}
    notes: list[str] = []
    report: dict[str, Any] = {}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pforte-bench-tokens-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite+aiosqlite:///{workdir / 'pforte.db'}"
        headers_file = workdir / "round-robin-basic-headers.txt"
        started = time.perf_counter()
        secret, basics = asyncio.run(seed(url, args.clients))
        headers_file.write_text("".join(f"{value}\n" for value in basics))
        seeded = Seeded(url=url, secret=secret, headers_file=headers_file, clients=args.clients)
        print(
            f"seeded: tenant {TENANT!r}, client {CLIENT!r} and {args.clients:,} round-robin clients "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        for setup in SETUPS:
            if setup.key in args.skip:
                continue
            if setup.key == "granian" and not granian_available():
                notes.append("granian skipped: not installed (pip install 'pforte[granian]')")
                continue
            with harness.server(url, workdir, cpus=setup.server_cpus, env=setup.env, name=setup.key) as srv:
                procs = processes(srv.pid)
                report.setdefault("server_processes", {})[setup.key] = procs
                print(f"\n== {setup.label}: " + ", ".join(f"pid {p['pid']}" for p in procs), flush=True)
                for endpoint, connections in setup.runs:
                    if endpoint == ROUND_ROBIN:
                        warm = warm_pass(srv, seeded)
                        report["round_robin_warm_pass"] = warm
                        print(
                            f"[{setup.key}] cache warm-up (discarded): one token request for each of "
                            f"the {warm['clients']:,} clients in {warm['seconds']:.1f} s, "
                            f"{warm['failed']} failed, server CPU "
                            f"{warm['server_cpu_ms_per_cold_request']:.2f} ms per cold request; "
                            "the measured round robin below is the steady state (every client cached)",
                            flush=True,
                        )
                    row, out = run_one(srv, setup, endpoint, connections, seeded, args)
                    rows.append(row)
                    raw[f"{setup.key}/{row.endpoint}/{connections}"] = out
                    print(
                        f"[{setup.key} {row.endpoint} c{connections}] {row.rps:,.0f} req/s, "
                        f"p50 {row.p50_ms:.2f} ms, p99 {row.p99_ms:.2f} ms, non-2xx {row.non_2xx}, "
                        f"socket errors {row.socket_errors}, bad body {row.bad_body}, "
                        f"RSS {row.server_rss_mb:.0f} MB",
                        flush=True,
                    )
                if setup.key == "uvicorn" and "profile" not in args.skip:
                    report["pyspy"] = pyspy_profile(srv, seeded, args)
            kept = RESULTS_DIR / f"tokens-server-{setup.key}.log"
            shutil.copyfile(srv.log, kept)
            problems = harness.log_problems(srv.log)
            if problems:
                notes.append(
                    f"{setup.key}: {len(problems)} warning/error line(s) in {kept.relative_to(ROOT)}"
                )
        if args.peers:
            peer_rows, peer_raw, skipped = peers(seeded, workdir, args)
            rows += peer_rows
            raw.update(peer_raw)
            if skipped:
                notes.append(f"peers skipped: {skipped}")
            report["ratio_rounds"] = ratio_rounds(seeded, workdir, args)
            if report["ratio_rounds"] is None:
                notes.append("ratio rounds not run (--rounds 0, or node-oidc-provider's port is taken)")
        else:
            notes.append("peers not run (pass --peers to run node-oidc-provider from ../shared/peers)")
        if "profile" not in args.skip:
            report["inprocess_profile"] = inprocess_profile(seeded, args)
    report.update(rows=rows, raw=raw, notes=notes)
    return report


def ratio_note(rows: list[Row]) -> str | None:
    """The round robin's tokens/s as a share of the one-client figure (same setup, 64 conns)."""
    one = next(
        (r for r in rows if r.setup == SETUPS[0].label and r.endpoint == TOKEN and r.connections == 64), None
    )
    many = next((r for r in rows if r.endpoint.startswith(ROUND_ROBIN)), None)
    if one is None or many is None:
        return None
    return (
        f"round robin over {many.endpoint.split('(')[-1].rstrip(')')} clients: {many.rps:,.0f} tokens/s = "
        f"{many.rps / one.rps * 100:.0f} % of the one-client figure ({one.rps:,.0f}); target ≥ 80 %"
    )


def peer_ratios(rows: list[Row]) -> list[str]:
    """Tokens/s of each Pforte setup ÷ node-oidc-provider's (JWT ES256), connection count by
    connection count, when both ran in this sitting."""
    node = {
        r.connections: r.rps
        for r in rows
        if r.setup.startswith("node-oidc-provider, JWT") and r.endpoint == TOKEN
    }
    lines = []
    for setup in SETUPS:
        ours = {r.connections: r.rps for r in rows if r.setup == setup.label and r.endpoint == TOKEN}
        pairs = [f"c{c} {ours[c] / node[c]:.2f}×" for c in sorted(ours) if c in node and node[c] > 0]
        if pairs:
            lines.append(f"{setup.key} ÷ node-oidc-provider (tokens/s, same sitting): {', '.join(pairs)}")
    return lines


def table(rows: list[Row]) -> str:
    def maybe(value: float | None, scale: float = 1) -> str:
        return f"{value * scale:.0f}" if value is not None else "—"

    return harness.markdown(
        "setup | endpoint | conns> | req/s> | p50 ms> | p99 ms> | non-2xx (+sock err)> | bad body> "
        "| server RSS MB> | server CPU µs/req>",
        (
            (
                r.setup,
                r.endpoint,
                r.connections,
                f"{r.rps:,.0f}",
                f"{r.p50_ms:.2f}",
                f"{r.p99_ms:.2f}",
                f"{r.non_2xx} (+{r.socket_errors})",
                r.bad_body,
                maybe(r.server_rss_mb),
                maybe(r.server_cpu_ms_per_req, 1000),
            )
            for r in rows
        ),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.timing_arguments(parser)
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s runs, 1 s warm-ups")
    parser.add_argument("--clients", type=int, default=10_000, help="round-robin clients (default 10,000)")
    parser.add_argument("--peers", action="store_true", help="also node-oidc-provider from ../shared/peers")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["uvicorn", "uvicorn-log-off", "uvicorn-metrics", "granian", "workers2", "profile"],
        help="leave out a part (repeatable)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="with --peers: rounds of node / Pforte defaults / Pforte + /metrics, median ratio (default 5)",
    )
    parser.add_argument("--profile-requests", type=int, default=5_000, help="in-process profile calls")
    parser.add_argument("--top", type=int, default=25, help="functions listed per profile table")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.warmup, args.profile_requests = 3, 1, 1_000
    problem = harness.preflight()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    harness.pin_self()  # seeding, the checks and the warm pass stay off the server's CPU

    started = time.perf_counter()
    machine = harness.machine()
    result = run(args)
    rows: list[Row] = result["rows"]
    print()
    print(
        f"Benchmark 2: the token service (POST /t/{TENANT}/token: client_credentials, client_secret_basic, "
        f"ES256; POST /t/{TENANT}/introspect of one live token) on SQLite; "
        f"{args.warmup} s warm-up discarded, {args.duration} s measured per row"
    )
    print(table(rows))
    ratio = ratio_note(rows)
    if ratio:
        print(ratio)
    for line in peer_ratios(rows):
        print(line)
    for line in round_lines(result.get("ratio_rounds")):
        print(line)
    profile = result.get("inprocess_profile")
    one = next(
        (r for r in rows if r.setup == SETUPS[0].label and r.endpoint == TOKEN and r.connections == 64), None
    )
    if profile and one is not None and one.server_cpu_ms_per_req is not None:
        server_us = one.server_cpu_ms_per_req * 1000
        print(
            f"server CPU per token (uvicorn, 64 conns) {server_us:.0f} µs, of which the handler in-process "
            f"{profile['handler_us_per_request']:.0f} µs (signing {profile['es256_sign_us']:.0f} µs): "
            f"about {server_us - profile['handler_us_per_request']:.0f} µs are the HTTP server, "
            "the event loop and the ASGI hand-off"
        )
    for note in result["notes"]:
        print(f"note: {note}")
    if machine["cpu_busy_at_start"] > 0.1:
        print(
            f"note: before the runs, other work kept {machine['cpu_busy_at_start'] * 100:.0f} % of the CPUs "
            "busy: it shared the cores with the runs, so the figures are contaminated"
        )
    print(f"\n({time.perf_counter() - started:.0f} s)")

    report = {
        "benchmark": "token service",
        "date": harness.now_iso(),
        "machine": machine,
        "setup": {
            "database": "SQLite (embedded default), seeded once, shared by every server",
            "server": "pforte serve with the default settings (access log on, level info); "
            "uvicorn-log-off: PFORTE_ACCESS_LOG=false, PFORTE_LOG_LEVEL=warning; "
            "uvicorn-metrics: the defaults and PFORTE_METRICS_TOKEN (Prometheus /metrics counting)",
            "wrk": f"{args.warmup} s warm-up discarded, then {args.duration} s measured with --latency",
            "round_robin_clients": args.clients,
            "setups": [dataclasses.asdict(s) for s in SETUPS if s.key not in args.skip],
        },
        "results": [dataclasses.asdict(r) for r in rows],
        "round_robin": ratio,
        "peer_ratios": peer_ratios(rows),
        "ratio_rounds": result.get("ratio_rounds"),
        "ratio_round_lines": round_lines(result.get("ratio_rounds")),
        "round_robin_warm_pass": result.get("round_robin_warm_pass"),
        "server_processes": result.get("server_processes"),
        "pyspy": result.get("pyspy"),
        "inprocess_profile": profile,
        "notes": result["notes"],
        "wrk_output": result["raw"],
    }
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"written: {RESULTS.relative_to(ROOT)}")
    failed = [
        r for r in rows if not r.setup.startswith("node-") and (r.non_2xx or r.socket_errors or r.bad_body)
    ]
    if failed:
        print(
            f"{len(failed)} Pforte run(s) had non-2xx answers, socket errors or bad bodies", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
