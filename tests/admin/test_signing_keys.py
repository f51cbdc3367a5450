"""GET /tenants/{tenant}/keys and POST /tenants/{tenant}/keys/rotate (``tenants:admin``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from pforte.app import create_app
from pforte.domain.oauth import signing_keys
from pforte.services.context import Context
from pforte.settings import Settings
from tests.conftest import assert_problem, audit_events, bearer, make_key, make_tenant, moment, snapshot

pytestmark = pytest.mark.anyio
BASE = "/api/admin/v1/tenants"
FIELDS = {"kid", "alg", "createdAt", "activeFrom", "retiredAt", "status"}
HOLD = signing_keys.LONGEST_TOKEN + signing_keys.LEEWAY


def keys_url(tenant: str) -> str:
    return f"{BASE}/{tenant}/keys"


@pytest.fixture
async def at_once(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The admin API of a server whose new keys sign at once (PFORTE_KEY_PUBLISH_AHEAD=0)."""
    context = Context.create(settings.model_copy(update={"key_publish_ahead": 0}))
    app = create_app(context.settings, context)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http
    await context.db.dispose()


async def test_a_new_tenant_has_one_active_key(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    response = await client.get(keys_url(tenant), headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None
    (key,) = body["items"]
    assert set(key) == FIELDS
    assert key["alg"] == "ES256"
    assert key["status"] == "active"
    assert key["retiredAt"] is None
    assert moment(key["activeFrom"]) == moment(key["createdAt"])
    jwks = (await client.get(f"/t/{tenant}/jwks")).json()
    assert [k["kid"] for k in jwks["keys"]] == [key["kid"]]


async def test_rotate_publishes_a_next_key_and_retires_the_old_one(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    (old,) = (await client.get(keys_url(tenant), headers=admin)).json()["items"]
    response = await client.post(f"{keys_url(tenant)}/rotate", headers=admin)
    assert response.status_code == 201, response.text
    new = response.json()
    assert set(new) == FIELDS
    assert new["status"] == "next"
    assert new["retiredAt"] is None
    assert new["alg"] == "ES256" and new["kid"] != old["kid"]
    assert moment(new["activeFrom"]) - moment(new["createdAt"]) == timedelta(seconds=60)

    items = (await client.get(keys_url(tenant), headers=admin)).json()["items"]
    assert [(k["kid"], k["status"]) for k in items] == [(old["kid"], "active"), (new["kid"], "next")]
    assert moment(items[0]["retiredAt"]) == moment(new["activeFrom"]) + HOLD
    assert items[1] == new
    # Published before it signs: the JWKS has both.
    jwks = (await client.get(f"/t/{tenant}/jwks")).json()
    assert [k["kid"] for k in jwks["keys"]] == [old["kid"], new["kid"]]

    (event,) = await audit_events(ctx, "signing_key.rotated", new["kid"])
    assert event.actor.startswith("api_key:")
    (retiring,) = event.changes["retiring"]
    assert retiring["kid"] == old["kid"]
    assert moment(retiring["retiredAt"]) == moment(items[0]["retiredAt"])


async def test_with_no_publish_ahead_the_new_key_is_active_and_the_old_retiring(
    at_once: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    (old,) = (await at_once.get(keys_url(tenant), headers=admin)).json()["items"]
    response = await at_once.post(f"{keys_url(tenant)}/rotate", headers=admin)
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["status"] == "active"
    assert new["activeFrom"] == new["createdAt"]
    items = (await at_once.get(keys_url(tenant), headers=admin)).json()["items"]
    assert [(k["kid"], k["status"]) for k in items] == [(old["kid"], "retiring"), (new["kid"], "active")]


async def test_the_tenant_may_be_named_by_id_and_with_a_trailing_slash(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    tenant_id = (await client.get(f"{BASE}/{tenant}", headers=admin)).json()["id"]
    listed = await client.get(f"{keys_url(tenant_id)}/", headers=admin)
    assert listed.status_code == 200
    response = await client.post(f"{keys_url(tenant_id)}/rotate/", headers=admin)
    assert response.status_code == 201
    kids = [k["kid"] for k in (await client.get(keys_url(tenant), headers=admin)).json()["items"]]
    assert kids == [listed.json()["items"][0]["kid"], response.json()["kid"]]


# --- errors: problem+json, nothing changed ---------------------------------------------------


async def test_no_credential_is_401(client: httpx.AsyncClient, ctx: Context, tenant: str) -> None:
    before = await snapshot(ctx)
    response = await client.post(f"{keys_url(tenant)}/rotate")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Bearer realm="pforte"'
    assert_problem(await client.get(keys_url(tenant)), 401, "unauthorized")
    assert await snapshot(ctx) == before


async def test_an_unknown_key_is_401(client: httpx.AsyncClient, ctx: Context, tenant: str) -> None:
    before = await snapshot(ctx)
    response = await client.post(f"{keys_url(tenant)}/rotate", headers=bearer("pfk_" + "x" * 50))
    assert_problem(response, 401, "unauthorized")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("permissions", [["clients:write", "clients:read"], ["users:write"]])
async def test_a_key_of_the_tenant_itself_without_tenants_admin_is_403(
    client: httpx.AsyncClient, ctx: Context, tenant: str, permissions: list[str]
) -> None:
    key = await make_key(ctx, tenant, permissions)
    before = await snapshot(ctx)
    body = assert_problem(
        await client.post(f"{keys_url(tenant)}/rotate", headers=bearer(key)), 403, "forbidden"
    )
    assert body["detail"] == "the permission tenants:admin is required"
    assert_problem(await client.get(keys_url(tenant), headers=bearer(key)), 403, "forbidden")
    assert await snapshot(ctx) == before


async def test_another_tenants_key_is_403(client: httpx.AsyncClient, ctx: Context, tenant: str) -> None:
    other = await make_tenant(ctx)
    key = await make_key(ctx, other, ["clients:write", "clients:read"])
    before = await snapshot(ctx)
    for url in (keys_url(tenant), keys_url("no-such-tenant")):  # existing or not: the same answer
        body = assert_problem(await client.post(f"{url}/rotate", headers=bearer(key)), 403, "forbidden")
        assert body["detail"] == "this credential belongs to another tenant"
        assert_problem(await client.get(url, headers=bearer(key)), 403, "forbidden")
    assert await snapshot(ctx) == before


async def test_unknown_tenant_is_404(client: httpx.AsyncClient, admin: dict[str, str], ctx: Context) -> None:
    before = await snapshot(ctx)
    body = assert_problem(
        await client.post(f"{keys_url('no-such-tenant')}/rotate", headers=admin), 404, "not-found"
    )
    assert body["detail"] == "tenant 'no-such-tenant' does not exist"
    assert_problem(await client.get(keys_url("no-such-tenant"), headers=admin), 404, "not-found")
    assert await snapshot(ctx) == before


async def test_other_methods_are_405(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    assert_problem(await client.get(f"{keys_url(tenant)}/rotate", headers=admin), 405, "method-not-allowed")
    assert_problem(await client.delete(keys_url(tenant), headers=admin), 405, "method-not-allowed")
    assert await snapshot(ctx) == before


async def test_the_routes_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/admin/v1/openapi.json")).json()["paths"]
    assert set(paths["/tenants/{tenant}/keys"]) == {"get"}
    assert set(paths["/tenants/{tenant}/keys/rotate"]) == {"post"}
