"""Shared start-up: settings, migrations, the first credentials — and clean failures.

A bad setting or an unreachable database stops start-up with one line naming the variable
and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console
from rich.panel import Panel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from pforte.domain.errors import DomainError
from pforte.security.files import create_private_unique
from pforte.services.bootstrap import BootstrapCredentials, initialise
from pforte.services.context import Context
from pforte.settings import Settings, SettingsError, load_settings

T = TypeVar("T")

err = Console(stderr=True)
out = Console()
EXIT_CONFIG = 2


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_CONFIG)


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        raise fail(str(exc)) from None


def initialise_or_exit(settings: Settings) -> BootstrapCredentials | None:
    return run_or_exit(settings, initialise)


def run_or_exit(settings: Settings, job: Callable[[Context], Awaitable[T]]) -> T:
    """Run ``job`` with a services context; a refusal (unknown tenant…) or an unusable database
    ends the command with one line and exit status 2."""

    async def run() -> T:
        ctx = Context.create(settings)
        try:
            return await asyncio.wait_for(job(ctx), timeout=60)
        finally:
            await ctx.db.dispose()

    try:
        return asyncio.run(run())
    except DomainError as exc:
        raise fail(exc.message) from None
    except SettingsError as exc:  # a key file open to others
        raise fail(str(exc)) from None
    except (OSError, TimeoutError, OperationalError, InterfaceError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200] or type(exc).__name__
        raise fail(
            f"PFORTE_DATABASE_URL: cannot use the database at {settings.database_url_redacted}: {reason}"
        ) from None


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as exc:
            raise fail(f"PFORTE_HOST / --host: cannot listen on {host}: {exc.strerror}") from None
        except OSError as exc:
            variable = "PFORTE_HOST / --host" if exc.errno == errno.EADDRNOTAVAIL else "PFORTE_PORT / --port"
            raise fail(f"{variable}: cannot listen on {host}:{port}: {exc.strerror}") from None


BOOTSTRAP_FILE = ("pforte-bootstrap", ".txt")


def show_bootstrap(settings: Settings, created: BootstrapCredentials) -> None:
    """Hand the first credentials to the operator, once, and never to the log stream (stdout):
    to the terminal when stderr is one, else into a new file of mode 0600 beside the database
    (the working directory for PostgreSQL), named — without any secret — by one line on stderr."""
    lines = [
        f"client id      {created.client_id}",
        f"client secret  {created.client_secret}",
        f"API key        {created.api_key}",
        "",
        "Both hold tenants:admin. They are shown this once and stored only as hashes.",
        "",
        f"console user   {created.admin_username}  (tenant system, role admin)",
        f"password       {created.admin_password}",
    ]
    hint = (
        f"Try: curl -H 'Authorization: Bearer {created.api_key}' {settings.public_url}/api/admin/v1/tenants"
    )
    if sys.stderr.isatty():
        err.print(
            Panel("\n".join(lines), title="Pforte bootstrap credentials", expand=False), highlight=False
        )
        err.print(hint, highlight=False, soft_wrap=True)
        return
    text = "\n".join(["Pforte bootstrap credentials", "", *lines, "", hint, ""])
    directory = settings.sqlite_file.parent if settings.sqlite_file is not None else Path()
    try:
        path = create_private_unique(directory, *BOOTSTRAP_FILE, text)
    except OSError as exc:
        # The credentials exist now and nowhere else: the terminal-less stderr is the last place.
        err.print(
            f"warning: cannot write the bootstrap credentials into {directory}: {exc.strerror}; "
            "they follow on stderr",
            highlight=False,
            soft_wrap=True,
        )
        err.print(text, highlight=False, soft_wrap=True, markup=False)
        return
    err.print(
        f"Bootstrap credentials (tenants:admin, shown once) written to {path.resolve()} (mode 0600): "
        "keep them elsewhere, then delete the file.",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
