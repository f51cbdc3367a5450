"""The serving process: ``python -m pforte.server`` runs the ASGI server on the app, nothing else.

``pforte serve`` prepares (settings, migrations, bootstrap banner) and then replaces itself
with this module (``os.execv``: same PID, so signals reach the server), so that the process
that serves carries neither the CLI's nor the migration tool's modules.

Two ASGI servers are supported (``PFORTE_SERVER``): uvicorn (the default, chosen by
measurement — docs/benchmarks.md) and granian (``pip install 'pforte[granian]'``).

With ``/metrics`` on and several workers, each worker keeps its counts in files of
prometheus_client's multiprocess mode, and a scrape adds them up (``pforte.metrics``). Their
directory, ``PROMETHEUS_MULTIPROC_DIR``, is made here — fresh, private (0700), before any worker
starts, and removed when the server stops — unless the operator set it (then it is theirs:
used as it is and kept).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

from pforte.settings import Settings, load_settings

APP = "pforte.app:create_app_from_env"


def run_uvicorn(settings: Settings) -> None:
    import uvicorn  # only the server in use is loaded

    from pforte.web.form_protocol import FormProtocol
    from pforte.web.header_timeout import HeaderTimeoutProtocol

    HeaderTimeoutProtocol.timeout = settings.header_timeout
    uvicorn.run(
        APP,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,  # nothing uses the client address; saves a middleware per request
        # httptools, with a deadline for the request's headers, answering the form endpoints
        http=FormProtocol,
        env_file=None,
    )


def run_granian(settings: Settings) -> None:
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    Server(
        APP,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        runtime_threads=1,
        loop=Loops.uvloop,
        websockets=False,
        log_level=LogLevels.warning,
        factory=True,
    ).serve()


MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


@contextlib.contextmanager
def metrics_directory(settings: Settings) -> Iterator[None]:
    """A private ``PROMETHEUS_MULTIPROC_DIR`` for the workers' metrics, while they run."""
    if settings.metrics_token is None or settings.workers < 2 or os.environ.get(MULTIPROC_DIR):
        yield
        return
    path = tempfile.mkdtemp(prefix="pforte-metrics-")  # mode 0700, a new name
    os.environ[MULTIPROC_DIR] = path  # inherited by every worker
    try:
        yield
    finally:
        shutil.rmtree(path, ignore_errors=True)


def main() -> None:
    settings = load_settings()
    with metrics_directory(settings):
        (run_granian if settings.server == "granian" else run_uvicorn)(settings)


if __name__ == "__main__":
    main()
