"""``pforte keys rotate|list --tenant T`` (Typer's CliRunner) on the test databases: what the
operator reads, what lands in storage, and one-line errors with exit status 2."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner, Result

from pforte.cli import app
from pforte.domain.oauth import signing_keys
from pforte.services.context import Context
from pforte.services.keys import tenant_keys
from tests.conftest import SECRET_KEY, Database, audit_events, snapshot

pytestmark = pytest.mark.anyio
KID = r"[A-Za-z0-9_-]{43}"
WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


def environment(database: Database, **extra: str) -> dict[str, str]:
    return {
        "PFORTE_DATABASE_URL": database.url,
        "PFORTE_SECRET_KEY": SECRET_KEY,
        "PFORTE_PUBLIC_URL": "http://127.0.0.1:8000",
        "COLUMNS": "200",
        **extra,
    }


async def pforte(args: list[str], env: dict[str, str]) -> Result:
    """Run the command in a worker thread: it runs its own event loop, as from a shell."""
    runner = CliRunner()
    return await anyio.to_thread.run_sync(lambda: runner.invoke(app, args, env=env))


async def test_rotate_prints_the_new_kid_its_start_and_the_old_keys_end(
    database: Database, ctx: Context, tenant: str
) -> None:
    (old,) = [s.key for s in await tenant_keys(ctx, tenant_ref=tenant)]
    result = await pforte(["keys", "rotate", "--tenant", tenant], environment(database))
    assert result.exit_code == 0, result.output + result.stderr
    lines = result.output.splitlines()
    assert lines[0] == f"Rotated the signing key of tenant {tenant}."
    found = re.fullmatch(rf"new key   ({KID}) \(ES256\), published now, signs from ({WHEN})", lines[1])
    assert found, lines[1]
    new_kid = found[1]
    assert re.fullmatch(rf"old key   {old.kid} stays published until {WHEN}", lines[2]), lines[2]
    assert len(lines) == 3

    states = await tenant_keys(ctx, tenant_ref=tenant)
    assert [(s.key.kid, s.status.value) for s in states] == [(old.kid, "active"), (new_kid, "next")]
    new = states[1].key
    assert found[2] == new.active_from.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert states[0].key.retired_at == signing_keys.retirement(new.active_from)
    assert lines[2].endswith(states[0].key.retired_at.strftime("%Y-%m-%d %H:%M:%S UTC"))  # type: ignore[union-attr]
    (event,) = await audit_events(ctx, "signing_key.rotated", new_kid)
    assert event.actor == "system:cli"


async def test_rotate_honours_the_publish_ahead_setting(
    database: Database, ctx: Context, tenant: str
) -> None:
    result = await pforte(
        ["keys", "rotate", "-t", tenant], environment(database, PFORTE_KEY_PUBLISH_AHEAD="0")
    )
    assert result.exit_code == 0, result.output + result.stderr
    states = await tenant_keys(ctx, tenant_ref=tenant)
    assert [s.status.value for s in states] == ["retiring", "active"]


async def test_list_shows_each_published_key_with_its_status(
    database: Database, ctx: Context, tenant: str
) -> None:
    assert (await pforte(["keys", "rotate", "-t", tenant], environment(database))).exit_code == 0
    before = await snapshot(ctx)
    result = await pforte(["keys", "list", "--tenant", tenant], environment(database))
    assert result.exit_code == 0, result.output + result.stderr
    states = await tenant_keys(ctx, tenant_ref=tenant)
    rows = [line for line in result.output.splitlines() if re.search(KID, line)]
    assert len(rows) == 2
    for line, state in zip(rows, states, strict=True):
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        assert cells[:3] == [state.key.kid, "ES256", state.status.value]
    assert [s.status.value for s in states] == ["active", "next"]
    assert "kid" in result.output and "published until" in result.output
    assert await snapshot(ctx) == before  # listing changes nothing


async def test_unknown_tenant_is_one_line_and_exit_2(database: Database, ctx: Context) -> None:
    before = await snapshot(ctx)
    for command in ("rotate", "list"):
        result = await pforte(["keys", command, "--tenant", "no-such-tenant"], environment(database))
        assert result.exit_code == 2
        assert result.stderr.strip() == "error: tenant 'no-such-tenant' does not exist"
        assert "Traceback" not in result.output + result.stderr
    assert await snapshot(ctx) == before


async def test_another_secret_key_refuses_to_seal_a_key_the_servers_cannot_open(
    database: Database, ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    env = environment(database, PFORTE_SECRET_KEY="a-different-secret-0123456789abcdefghij")
    result = await pforte(["keys", "rotate", "--tenant", tenant], env)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: this server secret (PFORTE_SECRET_KEY) does not open the tenant's signing keys; "
        "rotate with the secret the servers use"
    )
    assert await snapshot(ctx) == before


async def test_missing_tenant_option_is_a_usage_error(database: Database) -> None:
    result = await pforte(["keys", "rotate"], environment(database))
    assert result.exit_code == 2
    assert "--tenant" in result.output + result.stderr


async def test_a_bad_setting_is_one_line_and_exit_2(database: Database) -> None:
    result = await pforte(
        ["keys", "rotate", "-t", "system"], environment(database, PFORTE_KEY_PUBLISH_AHEAD="-1")
    )
    assert result.exit_code == 2
    assert (
        result.stderr.strip() == "error: PFORTE_KEY_PUBLISH_AHEAD: Input should be greater than or equal to 0"
    )


async def test_no_database_file_and_no_secret_are_errors_not_fresh_starts(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "missing.db"
    result = await pforte(
        ["keys", "list", "-t", "system"],
        environment(database, PFORTE_DATABASE_URL=f"sqlite+aiosqlite:///{missing}"),
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: PFORTE_DATABASE_URL: no database at {missing}; "
        "run this where the server runs, or `pforte init` first"
    )
    assert not missing.exists()

    env = environment(database)
    del env["PFORTE_SECRET_KEY"]
    result = await pforte(["keys", "rotate", "-t", "system"], env)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: PFORTE_SECRET_KEY: not set, and no key file at pforte.key; "
        "use the servers' secret (a new key is sealed under it)"
    )
    assert not (tmp_path / "pforte.key").exists()
