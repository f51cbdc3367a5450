"""``pforte users create|list|set-password|add-role|remove-role`` (DESIGN.md §6) on the test
databases: what the operator reads, what lands in storage, one-line errors with exit status 2."""

from __future__ import annotations

import anyio
import pytest
from typer.testing import CliRunner, Result

from pforte.cli import app
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.store.repos.tenants import TenantRepo
from pforte.store.repos.users import UserRepo
from tests.cli.test_keys_command import environment
from tests.conftest import Database, audit_events, snapshot

pytestmark = pytest.mark.anyio
FAST = {
    "PFORTE_PASSWORD_TIME_COST": "1",
    "PFORTE_PASSWORD_MEMORY_KIB": "8192",
    "PFORTE_PASSWORD_PARALLELISM": "1",
}


async def users(database: Database, args: list[str], stdin: str = "") -> Result:
    """``pforte users …`` in a worker thread (it runs its own event loop), ``stdin`` piped in."""
    runner = CliRunner()
    env = environment(database, **FAST)
    return await anyio.to_thread.run_sync(lambda: runner.invoke(app, ["users", *args], env=env, input=stdin))


async def stored_hash(ctx: Context, tenant: str, username: str) -> str | None:
    async with ctx.db.transaction() as session:
        found = await TenantRepo(session).get(tenant)
        assert found is not None
        row = await UserRepo(session).by_username(found.id, username)
        return None if row is None else row.password_hash


async def test_create_reads_the_password_twice_from_stdin_and_assigns_roles(
    database: Database, ctx: Context, tenant: str
) -> None:
    args = [
        "create",
        "--tenant",
        tenant,
        "--username",
        "Ada",
        "--email",
        "ada@example.com",
        "--role",
        "admin",
    ]
    result = await users(database, args, "a good password\na good password\n")
    assert result.exit_code == 0, result.output + result.stderr
    user = await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, "ada")
    assert result.output.strip() == f"Created user Ada ({user.id}) in tenant {tenant}; roles: admin."
    assert (user.email, user.roles) == ("ada@example.com", ("admin",))
    stored = await stored_hash(ctx, tenant, "ada")
    assert stored is not None and ctx.passwords.verify(stored, "a good password")
    (event,) = await audit_events(ctx, "user.created", str(user.id))
    assert event.actor == "system:cli"
    assert "a good password" not in result.output + result.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["--username", "bob"],
            "one password\nanother one\n",
            "the two passwords differ; nothing was changed",
        ),
        (["--username", "bob"], "", "no password on standard input"),
        (["--username", "bob"], "short\n", "password: must be at least 8 characters"),
        (["--username", "two words"], "a good password\n", "username: must be 1-255 characters"),
        (["--username", "bob", "--role", "nope"], "a good password\n", "role 'nope' does not exist"),
    ],
)
async def test_create_refusals_are_one_line_and_change_nothing(
    database: Database, ctx: Context, tenant: str, args: list[str], stdin: str, message: str
) -> None:
    before = await snapshot(ctx)
    result = await users(database, ["create", "--tenant", tenant, *args], stdin)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.output
    assert await snapshot(ctx) == before


async def test_a_username_taken_in_another_case_is_refused(
    database: Database, ctx: Context, tenant: str
) -> None:
    assert (await users(database, ["create", "-t", tenant, "-u", "Grace", "--no-password"])).exit_code == 0
    assert await stored_hash(ctx, tenant, "grace") is None
    before = await snapshot(ctx)
    result = await users(database, ["create", "-t", tenant, "-u", "GRACE", "--no-password"])
    assert (result.exit_code, "usernames ignore case" in result.stderr) == (2, True)
    assert await snapshot(ctx) == before


async def test_set_password_add_role_remove_role_and_list(
    database: Database, ctx: Context, tenant: str
) -> None:
    assert (await users(database, ["create", "-t", tenant, "-u", "kim"], "first password\n")).exit_code == 0
    result = await users(
        database, ["set-password", "-t", tenant, "-u", "KIM"], "second password\nsecond password\n"
    )
    assert (result.exit_code, result.output.strip()) == (0, f"Set the password of KIM in tenant {tenant}.")
    stored = await stored_hash(ctx, tenant, "kim")
    assert stored is not None and ctx.passwords.verify(stored, "second password")

    result = await users(database, ["add-role", "-t", tenant, "-u", "kim", "-r", "admin"])
    assert result.output.strip() == f"kim now holds the role admin in tenant {tenant}."
    result = await users(database, ["add-role", "-t", tenant, "-u", "kim", "-r", "admin"])
    assert result.output.strip() == f"kim already held the role admin in tenant {tenant}."

    listed = await users(database, ["list", "-t", tenant])
    user = await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, "kim")
    (row,) = [line for line in listed.output.splitlines() if " kim " in line]
    assert str(user.id) in row and "admin" in row and "yes" in row

    result = await users(database, ["remove-role", "-t", tenant, "-u", "kim", "-r", "admin"])
    assert result.output.strip() == f"kim no longer holds the role admin in tenant {tenant}."
    assert (await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, "kim")).roles == ()
    result = await users(database, ["remove-role", "-t", tenant, "-u", "kim", "-r", "admin"])
    assert (result.exit_code, "does not hold the role 'admin'" in result.stderr) == (2, True)


async def test_an_unknown_tenant_or_user_is_one_line(database: Database) -> None:
    result = await users(database, ["set-password", "-t", "no-such-tenant", "-u", "x"], "a good password\n")
    assert (result.exit_code, "tenant 'no-such-tenant' does not exist" in result.stderr) == (2, True)
    result = await users(database, ["add-role", "-t", "system", "-u", "nobody-here", "-r", "admin"])
    assert (result.exit_code, "user 'nobody-here' does not exist" in result.stderr) == (2, True)
