"""``pforte serve``: migrate, initialise an empty database, and run the server."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from pforte.cli.startup import check_port_free, initialise_or_exit, out, settings_or_exit, show_bootstrap
from pforte.observability import configure_logging
from pforte.settings import http_url


def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on [PFORTE_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="port [PFORTE_PORT]")] = None,
    workers: Annotated[int | None, typer.Option(help="worker processes [PFORTE_WORKERS]")] = None,
) -> None:
    """Run the server (creates the schema and the system tenant on an empty database)."""
    settings = settings_or_exit(host=host, port=port, workers=workers)
    check_port_free(settings.host, settings.port)
    configure_logging(settings.log_level)
    created = initialise_or_exit(settings)
    if created is not None:
        show_bootstrap(settings, created)
    out.print(
        f"Pforte listens on {http_url(settings.host, settings.port)} — "
        f"admin console: {settings.public_url}/admin/ — API console: {settings.public_url}/api/docs",
        highlight=False,
        soft_wrap=True,
    )
    # The serving process and its workers rebuild settings from the environment: hand them the
    # effective values, the public URL included (its default follows --host/--port).
    os.environ.update(
        PFORTE_HOST=settings.host,
        PFORTE_PORT=str(settings.port),
        PFORTE_WORKERS=str(settings.workers),
        PFORTE_PUBLIC_URL=settings.public_url,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    # Become the serving process (same PID): it starts without the CLI's and Alembic's modules.
    os.execv(sys.executable, [sys.executable, "-m", "pforte.server"])  # noqa: S606 - our own module
