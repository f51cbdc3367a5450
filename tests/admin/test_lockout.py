"""Nobody removes the last way in (DESIGN.md §5): the last principal holding ``tenants:admin``
cannot be deleted, disabled, narrowed or have its last credential revoked (409); ``pforte
bootstrap`` prints a recovery key at any time; the env bootstrap client is repaired at start.

Each test gets a database of its own (SQLite file and PostgreSQL), because it changes the
``system`` tenant's administrators, which the other tests share.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from pforte.app import create_app
from pforte.cli import app as cli
from pforte.services.bootstrap import BootstrapCredentials, initialise
from pforte.services.context import Context
from pforte.settings import Settings
from tests.conftest import (
    PUBLIC_URL,
    SECRET_KEY,
    assert_problem,
    audit_events,
    bearer,
    snapshot,
)

pytestmark = pytest.mark.anyio
SYSTEM = "/api/admin/v1/tenants/system"
ADMIN_CLIENT = f"{SYSTEM}/clients/pforte-admin"


@dataclass
class Fresh:
    url: str
    ctx: Context
    http: httpx.AsyncClient
    creds: BootstrapCredentials

    @property
    def key(self) -> dict[str, str]:
        return bearer(self.creds.api_key)


def fresh_settings(url: str, **extra: object) -> Settings:
    return Settings(database_url=url, secret_key=SECRET_KEY, public_url=PUBLIC_URL, **extra)  # type: ignore[arg-type]


@pytest.fixture
async def fresh(empty_database_url: str) -> AsyncIterator[Fresh]:
    ctx = Context.create(fresh_settings(empty_database_url))
    creds = await initialise(ctx)
    assert creds is not None
    transport = httpx.ASGITransport(app=create_app(ctx.settings, ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Fresh(empty_database_url, ctx, http, creds)
    await ctx.db.dispose()


async def only_way_in(f: Fresh) -> None:
    """Leave the bootstrap API key as the one way in: revoke the bootstrap secret."""
    secrets = (await f.http.get(f"{ADMIN_CLIENT}/secrets", headers=f.key)).json()["items"]
    for secret in secrets:
        response = await f.http.delete(f"{ADMIN_CLIENT}/secrets/{secret['id']}", headers=f.key)
        assert response.status_code == 204, response.text


async def test_the_last_administrator_cannot_remove_itself(fresh: Fresh) -> None:
    f = fresh
    await only_way_in(f)
    keys = (await f.http.get(f"{ADMIN_CLIENT}/api-keys", headers=f.key)).json()["items"]
    before = await snapshot(f.ctx)
    refused = {
        "delete": await f.http.delete(ADMIN_CLIENT, headers=f.key),
        "disable": await f.http.patch(ADMIN_CLIENT, json={"enabled": False}, headers=f.key),
        "narrow": await f.http.patch(ADMIN_CLIENT, json={"allowedScopes": ["clients:read"]}, headers=f.key),
        # PUT with a minimal body resets allowedScopes to its default, [].
        "put-minimal": await f.http.put(ADMIN_CLIENT, json={"clientName": "x"}, headers=f.key),
        "revoke-key": await f.http.delete(f"{ADMIN_CLIENT}/api-keys/{keys[0]['id']}", headers=f.key),
    }
    for what, response in refused.items():
        body = assert_problem(response, 409, "conflict")
        assert "last principal holding tenants:admin (pforte-admin)" in body["detail"], what
    assert await snapshot(f.ctx) == before
    assert await audit_events(f.ctx, "client.deleted", "pforte-admin") == []


async def test_a_second_administrator_makes_the_first_removable(fresh: Fresh) -> None:
    f = fresh
    created = await f.http.post(
        f"{SYSTEM}/clients", json={"clientId": "ops", "allowedScopes": ["tenants:admin"]}, headers=f.key
    )
    assert created.status_code == 201, created.text
    # ops can act through client credentials (its first secret): a way in.
    deleted = await f.http.delete(ADMIN_CLIENT, headers=f.key)
    assert deleted.status_code == 204, deleted.text
    assert len(await audit_events(f.ctx, "client.deleted", "pforte-admin")) == 1
    token = await f.http.post(
        "/t/system/token",
        data={"grant_type": "client_credentials"},
        auth=("ops", created.json()["secret"]["value"]),
    )
    assert token.status_code == 200
    ops = bearer(token.json()["access_token"])
    # Now ops is the last one: its own secret cannot go.
    secret_id = created.json()["secret"]["id"]
    response = await f.http.delete(f"{SYSTEM}/clients/ops/secrets/{secret_id}", headers=ops)
    assert_problem(response, 409, "conflict")


async def test_changes_that_keep_a_way_in_are_made(fresh: Fresh) -> None:
    f = fresh
    """Revoking the secret while the API key remains (and the reverse order's first step)."""
    secrets = (await f.http.get(f"{ADMIN_CLIENT}/secrets", headers=f.key)).json()["items"]
    response = await f.http.delete(f"{ADMIN_CLIENT}/secrets/{secrets[0]['id']}", headers=f.key)
    assert response.status_code == 204
    edited = await f.http.patch(ADMIN_CLIENT, json={"description": "still in"}, headers=f.key)
    assert edited.status_code == 200, edited.text


async def pforte(args: list[str], url: str) -> tuple[int, str, str]:
    env = {"PFORTE_DATABASE_URL": url, "PFORTE_SECRET_KEY": SECRET_KEY, "PFORTE_PUBLIC_URL": PUBLIC_URL}
    runner = CliRunner()
    result = await anyio.to_thread.run_sync(lambda: runner.invoke(cli, args, env=env))
    return result.exit_code, result.stdout, result.stderr


async def test_pforte_bootstrap_prints_a_working_recovery_key(fresh: Fresh) -> None:
    f = fresh
    code, out, err = await pforte(["bootstrap"], f.url)
    assert code == 0, out + err
    key = out.strip()
    assert key.startswith("pfk_") and "\n" not in key
    assert "pforte-recovery" in err and key not in err
    response = await f.http.get("/api/admin/v1/tenants", headers=bearer(key))
    assert response.status_code == 200, response.text
    # A second call gives a second, different key; the client is reused.
    code, again, _ = await pforte(["bootstrap", "--quiet"], f.url)
    assert code == 0 and again.strip() != key
    keys = (await f.http.get(f"{SYSTEM}/clients/pforte-recovery/api-keys", headers=bearer(key))).json()
    assert len(keys["items"]) == 2
    (event,) = await audit_events(f.ctx, "client.created", "pforte-recovery")
    assert event.actor == "system:cli"


async def test_pforte_bootstrap_repairs_a_disabled_recovery_client(fresh: Fresh) -> None:
    f = fresh
    code, out, _ = await pforte(["bootstrap", "-q"], f.url)
    assert code == 0
    disabled = await f.http.patch(
        f"{SYSTEM}/clients/pforte-recovery", json={"enabled": False, "allowedScopes": []}, headers=f.key
    )
    assert disabled.status_code == 200, disabled.text
    code, out, _ = await pforte(["bootstrap", "-q"], f.url)
    assert code == 0
    response = await f.http.get("/api/admin/v1/tenants", headers=bearer(out.strip()))
    assert response.status_code == 200, response.text
    client = (await f.http.get(f"{SYSTEM}/clients/pforte-recovery", headers=f.key)).json()
    assert client["enabled"] is True and client["allowedScopes"] == ["tenants:admin"]


async def test_pforte_bootstrap_without_a_database_is_one_line(tmp_path: Path) -> None:
    code, out, err = await pforte(["bootstrap"], f"sqlite+aiosqlite:///{tmp_path / 'missing.db'}")
    assert code == 2
    assert "no database at" in err and "Traceback" not in out + err


async def test_env_bootstrap_client_is_repaired_at_start(fresh: Fresh) -> None:
    f = fresh
    secret = f"env-Secret-{uuid.uuid4().hex}"
    settings = fresh_settings(
        f.url, bootstrap_client_id="automation", bootstrap_client_secret=SecretStr(secret)
    )
    ctx = Context.create(settings)
    try:
        assert await initialise(ctx) is None  # already initialised: creates only the env client
        broken = await f.http.patch(
            f"{SYSTEM}/clients/automation",
            json={"enabled": False, "allowedScopes": ["clients:read"], "allowedGrantTypes": []},
            headers=f.key,
        )
        assert broken.status_code == 200, broken.text
        for secret_row in (await f.http.get(f"{SYSTEM}/clients/automation/secrets", headers=f.key)).json()[
            "items"
        ]:
            await f.http.delete(f"{SYSTEM}/clients/automation/secrets/{secret_row['id']}", headers=f.key)
        await initialise(ctx)  # a restart with the same environment
    finally:
        await ctx.db.dispose()
    repaired = (await f.http.get(f"{SYSTEM}/clients/automation", headers=f.key)).json()
    assert repaired["enabled"] is True
    assert repaired["allowedScopes"] == ["clients:read", "tenants:admin"]
    assert repaired["allowedGrantTypes"] == ["client_credentials"]
    token = await f.http.post(
        "/t/system/token", data={"grant_type": "client_credentials"}, auth=("automation", secret)
    )
    assert token.status_code == 200, token.text
    updates = await audit_events(f.ctx, "client.updated", "automation")
    assert updates[-1].actor == "system:pforte"
    assert set(updates[-1].changes) == {"enabled", "allowedScopes", "allowedGrantTypes"}


async def test_revoking_the_last_admin_key_at_the_revocation_endpoint_is_refused(fresh: Fresh) -> None:
    """RFC 7009 revocation of an API key is a change like the admin API's: the last way in stays.
    Here the client's secret still authenticates it, but without client_credentials it is no
    way in: the API key is the last one."""
    f = fresh
    narrowed = await f.http.patch(ADMIN_CLIENT, json={"allowedGrantTypes": []}, headers=f.key)
    assert narrowed.status_code == 200, narrowed.text
    before = await snapshot(f.ctx)
    response = await f.http.post(
        "/t/system/revoke",
        data={"token": f.creds.api_key},
        auth=(f.creds.client_id, f.creds.client_secret),
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "last credential holding tenants:admin" in response.json()["error_description"]
    assert await snapshot(f.ctx) == before
    assert (await f.http.get("/api/admin/v1/tenants", headers=f.key)).status_code == 200
