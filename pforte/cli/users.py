"""``pforte users create|list|set-password|add-role|remove-role --tenant T`` (DESIGN.md §6).

Like ``pforte keys``, these work on the servers' database with their settings, acting as the
operator (audited as ``system:cli``). A password is never an argument (it would stay in the
shell history and the process list): it is read twice from the terminal, or from standard
input — the first line, and the second too if there is one, which must then be equal.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from pforte.cli.keys import TenantOption, existing_settings, say
from pforte.cli.startup import fail, out, run_or_exit
from pforte.domain.users import UserSpec
from pforte.services import users
from pforte.services.bootstrap import CLI_PRINCIPAL

app = typer.Typer(
    name="users",
    help="The users of a tenant: create them, list them, set passwords and roles.",
    no_args_is_help=True,
)

UserArgument = Annotated[
    str, typer.Option("--username", "-u", help="the username (any case) or the user's id")
]


def read_password() -> str:
    if sys.stdin.isatty():
        first = str(typer.prompt("Password", hide_input=True, err=True))
        second = str(typer.prompt("Repeat the password", hide_input=True, err=True))
    else:
        lines = sys.stdin.read().splitlines()
        if not lines or not lines[0]:
            raise fail("no password on standard input")
        first, second = lines[0], lines[1] if len(lines) > 1 else lines[0]
    if first != second:
        raise fail("the two passwords differ; nothing was changed")
    return first


def create(
    tenant: TenantOption,
    username: Annotated[str, typer.Option("--username", "-u", help="unique in the tenant, any case")],
    email: Annotated[str | None, typer.Option(help="the user's e-mail address")] = None,
    given_name: Annotated[str | None, typer.Option("--given-name")] = None,
    family_name: Annotated[str | None, typer.Option("--family-name")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", "-r", help="a tenant role (repeatable)")] = None,
    no_password: Annotated[bool, typer.Option("--no-password", help="create without a password")] = False,
) -> None:
    """Create a user; the password is read twice from the terminal (or from stdin)."""
    settings = existing_settings()
    spec = UserSpec(username=username, email=email, given_name=given_name, family_name=family_name)
    password = None if no_password else read_password()
    user = run_or_exit(
        settings,
        lambda ctx: users.create_user(ctx, CLI_PRINCIPAL, tenant, spec, password=password, roles=role or []),
    )
    roles = ", ".join(user.roles) or "none"
    say(f"Created user {user.username} ({user.id}) in tenant {tenant}; roles: {roles}.")


def list_users(
    tenant: TenantOption,
    limit: Annotated[int, typer.Option(help="at most this many, by username")] = 200,
) -> None:
    """The tenant's users, by username."""
    settings = existing_settings()
    page = run_or_exit(
        settings, lambda ctx: users.list_users(ctx, CLI_PRINCIPAL, tenant, cursor=None, limit=limit)
    )
    table = Table(title=f"Users of {tenant}", title_justify="left")
    for column in ("username", "id", "email", "enabled", "roles", "created"):
        table.add_column(column, overflow="fold")
    for user in page.items:
        table.add_row(
            user.username,
            str(user.id),
            user.email or "—",
            "yes" if user.enabled else "no",
            ", ".join(user.roles) or "—",
            user.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        )
    out.print(table, highlight=False)
    if page.next is not None:
        say(f"(more than {limit}; raise --limit)")


def set_password(tenant: TenantOption, username: UserArgument) -> None:
    """Set a user's password (read twice from the terminal, or from stdin)."""
    settings = existing_settings()
    password = read_password()
    run_or_exit(settings, lambda ctx: users.set_password(ctx, CLI_PRINCIPAL, tenant, username, password))
    say(f"Set the password of {username} in tenant {tenant}.")


def add_role(
    tenant: TenantOption,
    username: UserArgument,
    role: Annotated[str, typer.Option("--role", "-r", help="the tenant role")],
) -> None:
    """Give a user a tenant role."""
    settings = existing_settings()
    added = run_or_exit(settings, lambda ctx: users.add_role(ctx, CLI_PRINCIPAL, tenant, username, role))
    say(f"{username} {'now holds' if added else 'already held'} the role {role} in tenant {tenant}.")


def remove_role(
    tenant: TenantOption,
    username: UserArgument,
    role: Annotated[str, typer.Option("--role", "-r", help="the tenant role")],
) -> None:
    """Take a tenant role from a user."""
    settings = existing_settings()
    run_or_exit(settings, lambda ctx: users.remove_role(ctx, CLI_PRINCIPAL, tenant, username, role))
    say(f"{username} no longer holds the role {role} in tenant {tenant}.")


app.command("create")(create)
app.command("list")(list_users)
app.command("set-password")(set_password)
app.command("add-role")(add_role)
app.command("remove-role")(remove_role)
