"""``pforte keys list|rotate --tenant T``: a tenant's signing keys, from the operator's shell.

The command works on the database directly, as ``pforte init`` does, so it needs the servers'
settings: their database and their PFORTE_SECRET_KEY (a new key is sealed under it). It never
creates either: a missing database file or secret is an error, not a fresh start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from pforte.cli.startup import fail, out, run_or_exit, settings_or_exit
from pforte.domain.events import CLI_ACTOR
from pforte.services import keys
from pforte.settings import Settings

app = typer.Typer(
    name="keys",
    help="A tenant's signing keys: list them, rotate them (with overlap).",
    no_args_is_help=True,
)

TenantOption = Annotated[str, typer.Option("--tenant", "-t", help="the tenant's slug or id")]


def existing_settings() -> Settings:
    settings = settings_or_exit()
    database = settings.sqlite_file
    if database is not None and not database.exists():
        raise fail(
            f"PFORTE_DATABASE_URL: no database at {database}; "
            "run this where the server runs, or `pforte init` first"
        )
    if settings.secret_key is None and not settings.key_file.exists():
        raise fail(
            f"PFORTE_SECRET_KEY: not set, and no key file at {settings.key_file}; "
            "use the servers' secret (a new key is sealed under it)"
        )
    return settings


def say(line: str) -> None:
    out.print(line, highlight=False, soft_wrap=True)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def rotate(tenant: TenantOption) -> None:
    """Make a new signing key: published now, signing after PFORTE_KEY_PUBLISH_AHEAD seconds."""
    settings = existing_settings()
    rotation = run_or_exit(
        settings, lambda ctx: keys.rotate_signing_key(ctx, tenant_ref=tenant, actor=CLI_ACTOR)
    )
    new = rotation.key
    say(f"Rotated the signing key of tenant {rotation.tenant.slug}.")
    say(f"new key   {new.kid} ({new.alg}), published now, signs from {_when(new.active_from)}")
    for old in rotation.retiring:
        say(f"old key   {old.kid} stays published until {_when(old.retired_at)}")
    for gone in rotation.withdrawn:
        say(f"withdrawn {gone.kid} (had not signed yet)")
    for kid in rotation.deleted:
        say(f"deleted   {kid} (retired more than a day ago)")


def list_keys(tenant: TenantOption) -> None:
    """The tenant's published signing keys, oldest first."""
    settings = existing_settings()
    states = run_or_exit(settings, lambda ctx: keys.tenant_keys(ctx, tenant_ref=tenant))
    table = Table(title=f"Signing keys of {tenant}", title_justify="left")
    table.add_column("kid", overflow="fold")
    table.add_column("alg")
    table.add_column("status")
    table.add_column("created")
    table.add_column("signs from")
    table.add_column("published until")
    for state in states:
        key = state.key
        table.add_row(
            key.kid,
            key.alg,
            state.status.value,
            _when(key.created_at),
            _when(key.active_from),
            _when(key.retired_at),
        )
    out.print(table, highlight=False)


app.command("rotate")(rotate)
app.command("list")(list_keys)
