"""Shared start-up: settings, migrations, the first credentials — and clean failures.

A bad setting or an unreachable database stops start-up with one line naming the variable
and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.panel import Panel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from pforte.domain.errors import DomainError
from pforte.services.bootstrap import BootstrapCredentials, initialise
from pforte.services.context import Context
from pforte.settings import Settings, SettingsError, load_settings
from pforte.store.engine import redacted

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
    except (OSError, TimeoutError, OperationalError, InterfaceError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200] or type(exc).__name__
        raise fail(
            f"PFORTE_DATABASE_URL: cannot use the database at {redacted(settings.database_url)}: {reason}"
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


def show_bootstrap(settings: Settings, created: BootstrapCredentials) -> None:
    body = (
        f"client id      [bold]{created.client_id}[/]\n"
        f"client secret  [bold]{created.client_secret}[/]\n"
        f"API key        [bold]{created.api_key}[/]\n\n"
        "Both hold tenants:admin. They are shown this once and stored only as hashes."
    )
    out.print(Panel(body, title="Pforte bootstrap credentials", expand=False), highlight=False)
    out.print(
        f"Try: curl -H 'Authorization: Bearer {created.api_key}' {settings.public_url}/api/admin/v1/tenants",
        highlight=False,
        soft_wrap=True,
    )
