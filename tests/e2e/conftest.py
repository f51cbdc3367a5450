"""End-to-end fixtures: a real ``pforte serve`` process on 127.0.0.1 and a free port.

Each server runs in a temporary working directory on its own SQLite file, with its stdout and
stderr captured to files there, and is stopped by its PID at teardown. Nothing here reaches
into the app: the tests see exactly what an operator sees.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.e2e.browser import chromium  # noqa: F401 - the browser fixture of the e2e tests

SECRET_KEY = "e2e-secret-key-0123456789abcdefghijklmnopq"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
BIN = Path(sys.executable).parent
# The last line `pforte serve` prints before it starts serving.
LISTENING = "Pforte listens on "


def pforte_command() -> list[str]:
    script = BIN / "pforte"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pforte"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_env(workdir: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without any PFORTE_* setting, plus a SQLite file in ``workdir``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PFORTE_") and k not in {"COLUMNS", "LINES"}
    }
    env["PFORTE_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'pforte.db'}"
    env["PFORTE_SECRET_KEY"] = SECRET_KEY
    env["PFORTE_PASSWORD_TIME_COST"] = "1"
    env["PFORTE_PASSWORD_MEMORY_KIB"] = "8192"
    env["PFORTE_PASSWORD_PARALLELISM"] = "1"
    env.update(settings)
    return env


def run_pforte(
    args: Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float = 30, module: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run a ``pforte`` command that is expected to end by itself (init, --help, a failing serve)."""
    command = [sys.executable, "-m", "pforte"] if module else pforte_command()
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass(frozen=True, slots=True)
class Banner:
    client_id: str
    client_secret: str
    api_key: str
    admin_username: str
    admin_password: str


_BANNER = re.compile(
    r"client id\s+(?P<client_id>\S+).*?client secret\s+(?P<secret>pfs_\S+).*?API key\s+(?P<key>pfk_\S+)"
    r".*?console user\s+(?P<user>\S+).*?password\s+(?P<password>\S+)",
    re.DOTALL,
)


def bootstrap_file(workdir: Path) -> Path:
    """Where ``pforte init`` / the first ``pforte serve`` write the bootstrap credentials when
    stderr is not a terminal (as here): beside the SQLite file, mode 0600."""
    return workdir / "pforte-bootstrap.txt"


def read_banner(workdir: Path) -> Banner | None:
    """The bootstrap credentials written into ``workdir``, if any."""
    path = bootstrap_file(workdir)
    return parse_banner(path.read_text()) if path.exists() else None


def parse_banner(text: str) -> Banner | None:
    found = _BANNER.search(text)
    if found is None:
        return None
    return Banner(found["client_id"], found["secret"], found["key"], found["user"], found["password"])


@dataclass
class Server:
    """A running ``pforte serve``; ``stop()`` ends it by its PID."""

    proc: subprocess.Popen[bytes]
    port: int
    workdir: Path
    env: dict[str, str]
    stdout_path: Path
    stderr_path: Path
    _files: list[IO[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.workdir / "pforte.db"

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def banner(self) -> Banner | None:
        return read_banner(self.workdir)

    def http(self, api_key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def children(self) -> list[int]:
        """PIDs of the server's child processes (uvicorn's workers with ``--workers``)."""
        try:
            raw = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in raw.split()]

    def stop(self) -> int:
        """SIGTERM to the server's PID and wait; SIGKILL to its own process group only if stuck."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                # The process was started in a new session, so its group is ours alone.
                with suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(STOP_TIMEOUT)
        for handle in self._files:
            handle.close()
        self._files.clear()
        return int(self.proc.returncode)


def spawn(workdir: Path, env: dict[str, str], args: Sequence[str] = (), port: int | None = None) -> Server:
    """Start ``pforte serve`` without waiting for it; its output goes to files in ``workdir``."""
    port = port or free_port()
    # The caller's values win: a test may pass a bad PFORTE_PORT together with --port.
    # PFORTE_PUBLIC_URL is left to its default: the address served.
    env = {"PFORTE_PORT": str(port), "PFORTE_HOST": "127.0.0.1", **env}
    runs = len(list(workdir.glob("serve-*.stdout")))
    stdout_path = workdir / f"serve-{runs}.stdout"
    stderr_path = workdir / f"serve-{runs}.stderr"
    out = stdout_path.open("wb")
    err = stderr_path.open("wb")
    proc = subprocess.Popen(
        [*pforte_command(), "serve", *args],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=err,
        start_new_session=True,
    )
    return Server(proc, port, workdir, env, stdout_path, stderr_path, [out, err])


def wait_healthy(server: Server, timeout: float = START_TIMEOUT) -> bool:
    """True once GET /healthz answers 200; False if the process ends first."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.url, timeout=2) as http:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                return False
            with suppress(httpx.TransportError):
                if http.get("/healthz").status_code == 200:
                    return True
            time.sleep(0.1)
    server.stop()
    pytest.fail(f"pforte serve did not become healthy within {timeout}s:\n{server.stderr()[-2000:]}")


def start(workdir: Path, env: dict[str, str], args: Sequence[str] = ()) -> Server:
    """Start ``pforte serve`` and wait until it is healthy."""
    server = spawn(workdir, env, args)
    if not wait_healthy(server):
        code = server.stop()
        pytest.fail(f"pforte serve exited with {code}:\n{server.stdout()[-2000:]}\n{server.stderr()[-2000:]}")
    return server


class Servers:
    """Starts servers for one test and stops every one of them at its end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[Server] = []

    def workdir(self, name: str = "server") -> Path:
        path = self.root / name
        path.mkdir(exist_ok=True)
        return path

    def start(
        self, workdir: Path | None = None, env: dict[str, str] | None = None, args: Sequence[str] = ()
    ) -> Server:
        workdir = workdir or self.workdir()
        server = start(workdir, env if env is not None else base_env(workdir), args)
        self.started.append(server)
        return server

    def spawn(
        self, workdir: Path, env: dict[str, str], args: Sequence[str] = (), port: int | None = None
    ) -> Server:
        server = spawn(workdir, env, args, port)
        self.started.append(server)
        return server

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    """A factory of ``pforte serve`` processes, each in a directory below this test's tmp_path."""
    pool = Servers(tmp_path)
    yield pool
    pool.stop_all()


BOOTSTRAP_CLIENT_ID = "e2e-automation"
BOOTSTRAP_CLIENT_SECRET = "e2e-bootstrap-Secret-Value-4f0c9a7d2b"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module, started on an empty database, with
    PFORTE_BOOTSTRAP_CLIENT_ID/SECRET set."""
    workdir = tmp_path_factory.mktemp("serve")
    env = base_env(
        workdir,
        PFORTE_BOOTSTRAP_CLIENT_ID=BOOTSTRAP_CLIENT_ID,
        PFORTE_BOOTSTRAP_CLIENT_SECRET=BOOTSTRAP_CLIENT_SECRET,
    )
    running = start(workdir, env)
    yield running
    running.stop()


def start_pair(pool: Servers, url: str, **settings: str) -> list[Server]:
    """Two servers, ``a`` and ``b``, on the database ``url`` under one issuer (a token of one is
    accepted by the other), with PFORTE_BOOTSTRAP_CLIENT_ID/SECRET set."""
    public = f"http://127.0.0.1:{free_port()}"
    started = []
    for name in ("a", "b"):
        workdir = pool.workdir(name)
        env = base_env(
            workdir,
            PFORTE_DATABASE_URL=url,
            PFORTE_PUBLIC_URL=public,
            PFORTE_BOOTSTRAP_CLIENT_ID=BOOTSTRAP_CLIENT_ID,
            PFORTE_BOOTSTRAP_CLIENT_SECRET=BOOTSTRAP_CLIENT_SECRET,
            **settings,
        )
        started.append(pool.start(workdir, env))
    return started
