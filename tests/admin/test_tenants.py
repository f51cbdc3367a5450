"""Tenants through the admin API: create, list, get, update, delete (tenants:admin)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from pforte.services.context import Context
from tests.conftest import bearer, make_key, make_tenant, scalar, snapshot

pytestmark = pytest.mark.anyio
BASE = "/api/admin/v1/tenants"


def new_slug() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


async def test_create_tenant_returns_it_with_issuer_and_a_signing_key(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context
) -> None:
    slug = new_slug()
    response = await client.post(BASE, json={"slug": slug, "displayName": "Acme"}, headers=admin)
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == slug
    assert body["displayName"] == "Acme"
    assert body["signingAlg"] == "ES256"
    assert body["issuer"] == f"http://127.0.0.1:8000/t/{slug}"
    assert uuid.UUID(body["id"]).version == 7
    keys = await scalar(
        ctx,
        "SELECT count(*) FROM signing_keys k JOIN tenants t ON t.id = k.tenant_id "
        "WHERE t.slug = :s AND k.alg = 'ES256'",
        s=slug,
    )
    assert keys == 1


async def test_rs256_is_selectable_and_private_key_is_not_stored_in_clear(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context
) -> None:
    slug = new_slug()
    response = await client.post(BASE, json={"slug": slug, "signingAlg": "RS256"}, headers=admin)
    assert response.status_code == 201
    assert response.json()["signingAlg"] == "RS256"
    assert response.json()["displayName"] == slug
    rows = (await snapshot(ctx))["signing_keys"]
    sealed = [r for r in rows if r[3] == "RS256" or "RS256" in r]
    assert sealed
    for row in sealed:
        for value in row:
            if isinstance(value, bytes):
                assert b"PRIVATE KEY" not in value
                assert not value.startswith(b"\x30\x82")  # not PKCS#8 DER in clear


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "A-upper"}, "slug"),
        ({"slug": "x"}, "slug"),
        ({"slug": "-lead"}, "slug"),
        ({"slug": "a" * 64}, "slug"),
        ({"slug": "ok-slug", "signingAlg": "HS256"}, "signingAlg"),
        ({"slug": "ok-slug", "displayName": "x" * 201}, "displayName"),
        ({"slug": "ok-slug", "colour": "red"}, "colour"),
        ({"displayName": "no slug"}, "slug"),
        ({"slug": 12}, "slug"),
    ],
)
async def test_create_tenant_validation_names_the_field_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, body: dict[str, object], field: str
) -> None:
    before = await snapshot(ctx)
    response = await client.post(BASE, json=body, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:pforte:problem:validation-error"
    assert problem["status"] == 422
    assert problem["errors"][0]["field"] == field
    assert await snapshot(ctx) == before


async def test_duplicate_slug_is_409_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    response = await client.post(BASE, json={"slug": tenant}, headers=admin)
    assert response.status_code == 409
    assert response.json()["type"] == "urn:pforte:problem:conflict"
    assert await snapshot(ctx) == before


async def test_get_by_slug_and_by_id(client: httpx.AsyncClient, admin: dict[str, str], tenant: str) -> None:
    by_slug = await client.get(f"{BASE}/{tenant}", headers=admin)
    assert by_slug.status_code == 200
    by_id = await client.get(f"{BASE}/{by_slug.json()['id']}", headers=admin)
    assert by_id.status_code == 200
    assert by_id.json() == by_slug.json()


async def test_get_unknown_tenant_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get(f"{BASE}/no-such-tenant", headers=admin)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:pforte:problem:not-found"


async def test_list_pages_by_slug_with_cursor(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context
) -> None:
    mine = sorted([await make_tenant(ctx, f"page-{uuid.uuid4().hex[:8]}") for _ in range(3)])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await client.get(BASE, params=params, headers=admin)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [t["slug"] for t in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    assert set(mine) <= set(seen)
    assert "system" in seen


async def test_update_display_name_writes_an_audit_event(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = (await client.get(f"{BASE}/{tenant}", headers=admin)).json()
    response = await client.patch(f"{BASE}/{tenant}", json={"displayName": "Renamed"}, headers=admin)
    assert response.status_code == 200
    after = response.json()
    assert after["displayName"] == "Renamed"
    assert after["createdAt"] == before["createdAt"]
    assert after["updatedAt"] > before["updatedAt"]
    events = await scalar(
        ctx,
        "SELECT count(*) FROM audit_events e JOIN tenants t ON t.id = e.tenant_id "
        "WHERE t.slug = :s AND e.name = 'tenant.updated' AND e.actor LIKE 'api_key:%'",
        s=tenant,
    )
    assert events == 1


async def test_slug_cannot_be_changed(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    response = await client.patch(f"{BASE}/{tenant}", json={"slug": "other-slug"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0] == {"field": "slug", "message": "unknown field"}
    assert await snapshot(ctx) == before


async def test_delete_removes_everything_the_tenant_owns(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read", "clients:write"])
    created = await client.post(f"{BASE}/{tenant}/clients", json={"clientId": "app"}, headers=bearer(key))
    assert created.status_code == 201
    tenant_id = (await client.get(f"{BASE}/{tenant}", headers=admin)).json()["id"]

    response = await client.delete(f"{BASE}/{tenant}", headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"{BASE}/{tenant}", headers=admin)).status_code == 404
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 401
    rows = await snapshot(ctx)
    hex_id = uuid.UUID(tenant_id)
    for table in ("clients", "client_secrets", "api_keys", "signing_keys", "audit_events"):
        owned = [r for r in rows[table] if hex_id in r or str(hex_id) in r or hex_id.hex in r]
        assert owned == [], table
    deleted = await scalar(
        ctx,
        "SELECT count(*) FROM audit_events e JOIN tenants t ON t.id = e.tenant_id "
        "WHERE t.slug = 'system' AND e.name = 'tenant.deleted' AND e.target_id = :s",
        s=tenant,
    )
    assert deleted == 1


async def test_system_tenant_cannot_be_deleted(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context
) -> None:
    before = await snapshot(ctx)
    response = await client.delete(f"{BASE}/system", headers=admin)
    assert response.status_code == 409
    assert response.json()["type"] == "urn:pforte:problem:conflict"
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
async def test_tenant_routes_need_tenants_admin(
    client: httpx.AsyncClient, ctx: Context, tenant: str, method: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read", "clients:write"])
    path = BASE if method in {"GET", "POST"} else f"{BASE}/{tenant}"
    body = {"slug": new_slug()} if method == "POST" else {"displayName": "x"} if method == "PATCH" else None
    before = await snapshot(ctx)
    response = await client.request(method, path, json=body, headers=bearer(key))
    assert response.status_code == 403
    assert response.json()["type"] == "urn:pforte:problem:forbidden"
    assert await snapshot(ctx) == before
