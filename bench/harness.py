"""What the benchmarks share: seeding, a real `pforte serve` process, wrk, and /proc readings.

The server runs pinned with `taskset` (one worker, no access log, log level warning); wrk runs
pinned to the other CPU with bench/count_non2xx.lua, which counts every non-2xx answer (and,
when asked, every 2xx answer whose body lacks an expected pattern). A measurement is a warm-up
that is discarded, then one measured run with `--latency`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Table, insert

from pforte.domain.clients import ClientSpec
from pforte.domain.tenants import Tenant
from pforte.services import tenants as tenant_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL, initialise
from pforte.services.context import Context
from pforte.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS_DIR = BENCH / "results"
LUA = BENCH / "count_non2xx.lua"
PFORTE = Path(sys.executable).parent / "pforte"
SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnopqrs"
TENANT = "bench"
BATCH = 5_000
SERVER_CPU, CLIENT_CPU = "0", "1"
ALL_CPUS = f"0-{(os.cpu_count() or 1) - 1}"


# --- seeding -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def context(url: str) -> AsyncIterator[Context]:
    ctx = Context.create(Settings(database_url=url, secret_key=SECRET_KEY))
    try:
        yield ctx
    finally:
        await ctx.db.dispose()


async def seed_tenant(ctx: Context) -> tuple[str, Tenant]:
    """Migrate and initialise an empty database, create the tenant `bench`; return the operator
    API key and the tenant (ES256 signing key, the default)."""
    created = await initialise(ctx)
    assert created is not None, "the database was not empty"
    tenant = await tenant_service.create_tenant(
        ctx, SYSTEM_PRINCIPAL, tenant_service.TenantCreate(slug=TENANT)
    )
    return created.api_key, tenant


def client_rows(tenant_id: uuid.UUID, client_ids: Sequence[str], now: datetime) -> list[dict[str, Any]]:
    """`clients` rows with every column at ClientSpec's defaults (client_credentials only)."""
    spec = asdict(ClientSpec(client_id="-"))
    return [
        {
            **spec,
            "id": uuid.uuid4(),
            "tenant_id": tenant_id,
            "client_id": cid,
            "created_at": now,
            "updated_at": now,
        }
        for cid in client_ids
    ]


def user_rows(tenant_id: uuid.UUID, usernames: Sequence[str], now: datetime) -> list[dict[str, Any]]:
    """`users` rows as the User API writes them (search keys case-folded), without a password."""
    rows = []
    for i, name in enumerate(usernames):
        email, given, family = f"{name}@example.com", f"Given{i % 97}", f"Family{i % 89}"
        rows.append(
            {
                "id": uuid.uuid4(),
                "tenant_id": tenant_id,
                "username": name,
                "username_key": name.casefold(),
                "email": email,
                "email_key": email.casefold(),
                "email_verified": i % 2 == 0,
                "given_name": given,
                "given_name_key": given.casefold(),
                "family_name": family,
                "family_name_key": family.casefold(),
                "enabled": True,
                "password_hash": None,
                "must_change_password": False,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
    return rows


async def insert_rows(ctx: Context, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Straight into the table with SQLAlchemy Core, in batches of BATCH rows."""
    for start in range(0, len(rows), BATCH):
        async with ctx.db.transaction() as session:
            await session.execute(insert(table), list(rows[start : start + BATCH]))


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    """Something listens on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def pinned(cpus: str, command: list[str]) -> list[str]:
    """`taskset -c CPUS command`; ALL_CPUS undoes the pinning this runner gave itself."""
    return ["taskset", "-c", cpus, *command] if shutil.which("taskset") else command


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (uvicorn's and granian's workers), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """utime + stime, summed over the processes."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pids: Sequence[int]) -> float:
    """VmRSS summed over the processes, in MiB."""
    kb = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    kb += int(line.split()[1])
    return kb / 1024


def wait_ready(proc: subprocess.Popen[bytes], ready: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; see {log}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} was not ready after 30 s; see {log}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process this runner started (it stops its own workers), then SIGKILL to
    it and to any of its processes still alive."""
    if proc.poll() is None:
        family = descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        for pid in family[1:]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def healthy(base: str) -> Callable[[], bool]:
    def check() -> bool:
        with contextlib.suppress(httpx.TransportError):
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        return False

    return check


@dataclass(frozen=True)
class Server:
    base: str
    pid: int
    log: Path


@contextlib.contextmanager
def server(
    url: str,
    workdir: Path,
    *,
    cpus: str = SERVER_CPU,
    env: dict[str, str] | None = None,
    name: str = "server",
) -> Iterator[Server]:
    """`pforte serve` pinned to `cpus` (one worker unless env says otherwise), with the settings
    a user runs (access log on, level info) unless env says otherwise; stopped by its PID. Its
    output goes to workdir/<name>.log."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PFORTE_")}
    environment.update(
        PFORTE_DATABASE_URL=url,
        PFORTE_SECRET_KEY=SECRET_KEY,
        PFORTE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        **(env or {}),
    )
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            pinned(cpus, [str(PFORTE), "serve", "--host", "127.0.0.1", "--port", str(port)]),
            cwd=workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(proc, healthy(base), "pforte serve", log_path)
            yield Server(base, proc.pid, log_path)
        finally:
            stop(proc)


_PROBLEM = re.compile(r"traceback|error|exception|critical|warning", re.IGNORECASE)


def log_problems(path: Path) -> list[str]:
    """The lines of a server log that look like a warning, an error or a traceback."""
    if not path.exists():
        return []
    return [line for line in path.read_text(errors="replace").splitlines() if _PROBLEM.search(line)]


# --- wrk ---------------------------------------------------------------------------------------

_BENCH_LINE = re.compile(r"(\w+)=(\d+)")


def wrk(
    url: str,
    seconds: float,
    *,
    connections: int,
    latency: bool,
    threads: int = 1,
    cpus: str = CLIENT_CPU,
    headers: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One wrk run with count_non2xx.lua; its `bench:` totals and its whole output ("raw")."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(LUA)]
    for header in headers:
        command += ["-H", header]
    if latency:
        command.append("--latency")
    result = subprocess.run(
        pinned(cpus, [*command, url]),
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
        env={**os.environ, **(env or {})},
    )
    values: dict[str, Any] = {"raw": result.stdout + result.stderr}
    for line in result.stdout.splitlines():
        if line.startswith("bench:"):
            values.update({k: int(v) for k, v in _BENCH_LINE.findall(line)})
    if "requests" not in values:
        raise RuntimeError(f"wrk printed no totals:\n{values['raw']}")
    return values


@dataclass(kw_only=True)
class Load:
    """One measured run. p90/max/CPU are None where the tool that measured gives none."""

    rps: float
    p50_ms: float
    p90_ms: float | None
    p99_ms: float
    max_ms: float | None
    requests: int
    non_2xx: int
    socket_errors: int
    bad_body: int = 0
    server_cpu_ms_per_req: float | None = None
    server_rss_mb: float | None = None


def measure(
    url: str,
    pid: int,
    *,
    seconds: float,
    warmup: float,
    connections: int,
    env: dict[str, str] | None = None,
    body_file: Path | None = None,
    measured_from: int = 0,
    **options: Any,
) -> tuple[Load, str]:
    """A discarded warm-up, then a measured run; the server's CPU over the measured run and its
    RSS after it, both summed over the server's processes. `env` and `options` go to `wrk`.

    With `body_file` (single-use credentials, one request body a line: BENCH_BODY_FILE), the
    warm-up starts at its first line and the measured run at line `measured_from`, so that the
    two never send one line twice as long as the warm-up uses fewer lines than that."""

    def run_env(first_line: int) -> dict[str, str] | None:
        if body_file is None:
            return env
        return {**(env or {}), "BENCH_BODY_FILE": str(body_file), "BENCH_BODY_OFFSET": str(first_line)}

    wrk(url, warmup, connections=connections, latency=False, env=run_env(0), **options)  # discarded
    pids = descendants(pid)
    cpu_before = cpu_seconds(pids)
    got = wrk(url, seconds, connections=connections, latency=True, env=run_env(measured_from), **options)
    pids = descendants(pid)
    cpu = cpu_seconds(pids) - cpu_before
    load = Load(
        rps=got["requests"] / (got["duration_us"] / 1e6),
        p50_ms=got["p50_us"] / 1000,
        p90_ms=got["p90_us"] / 1000,
        p99_ms=got["p99_us"] / 1000,
        max_ms=got["max_us"] / 1000,
        requests=got["requests"],
        non_2xx=got["non2xx"],
        socket_errors=got["socket_errors"],
        bad_body=got.get("bad_body", 0),
        server_cpu_ms_per_req=cpu / max(got["requests"], 1) * 1000,
        server_rss_mb=rss_mb(pids),
    )
    return load, got["raw"]


# --- the report ------------------------------------------------------------------------------


def markdown(columns: str, rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table. `columns` is "title | title | …"; a title ending in ">" is a
    right-aligned (numeric) column, shown without the ">"."""
    titles = [t.strip() for t in columns.split("|")]
    lines = [
        "| " + " | ".join(t.rstrip(">") for t in titles) + " |",
        "|" + "|".join("---:" if t.endswith(">") else "---" for t in titles) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def wrk_version() -> str:
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).splitlines()[0] if (result.stdout or result.stderr) else "?"


def busy_share(seconds: float = 2.0) -> float:
    """How busy the machine's CPUs were over the next `seconds` (0–1, from /proc/stat), taken
    while this benchmark runs nothing: other work that would share the cores with the runs."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields) - idle, sum(fields)

    busy_before, total_before = sample()
    time.sleep(seconds)
    busy_after, total_after = sample()
    return (busy_after - busy_before) / max(total_after - total_before, 1)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "wrk": wrk_version(),
        "load_average_at_start": os.getloadavg(),
        "cpu_busy_at_start": busy_share(),
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def preflight() -> str | None:
    """Why the benchmark cannot run here, or None."""
    if shutil.which("wrk") is None:
        return "wrk is not installed (make bench installs it: apt-get install wrk)"
    if not PFORTE.exists():
        return f"{PFORTE} not found: run through `make bench`"
    return None


def timing_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="discarded seconds before each run (default 2)")


def pin_self() -> None:
    """The runner (seeding, checks) stays off the server's CPU."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {int(CLIENT_CPU)})
