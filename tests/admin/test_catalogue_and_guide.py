"""GET …/permissions (the grantable catalogue) and GET …/clients/{clientId}/guide."""

from __future__ import annotations

import httpx
import pytest

from pforte.domain.permissions import CATALOGUE
from pforte.services.context import Context
from tests.conftest import bearer, make_key

pytestmark = pytest.mark.anyio


async def test_catalogue_of_a_tenant_lists_every_permission_but_tenants_admin(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read"])
    response = await client.get(f"/api/admin/v1/tenants/{tenant}/permissions", headers=bearer(key))
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    names = [p["name"] for p in body["items"]]
    assert names == [p.name for p in CATALOGUE if p.name != "tenants:admin"]
    events = next(p for p in body["items"] if p["name"] == "events:read")
    assert events == {
        "name": "events:read",
        "api": "Event and Metric API",
        "description": {
            "en": "Read access to the Metric and Event API.",
            "de": "Lesezugriff auf die Metric und Event API.",
        },
    }


async def test_catalogue_of_system_includes_tenants_admin(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/api/admin/v1/tenants/system/permissions", headers=admin)
    assert response.status_code == 200
    assert "tenants:admin" in [p["name"] for p in response.json()["items"]]


async def test_catalogue_needs_clients_read(client: httpx.AsyncClient, ctx: Context, tenant: str) -> None:
    key = await make_key(ctx, tenant, ["users:read"])
    response = await client.get(f"/api/admin/v1/tenants/{tenant}/permissions", headers=bearer(key))
    assert response.status_code == 403


async def test_guide_of_a_confidential_client(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    created = await client.post(
        f"/api/admin/v1/tenants/{tenant}/clients",
        json={"clientId": "billing", "allowedScopes": ["users:read", "events:read"]},
        headers=admin,
    )
    secret = created.json()["secret"]["value"]
    response = await client.get(f"/api/admin/v1/tenants/{tenant}/clients/billing/guide", headers=admin)
    assert response.status_code == 200
    guide = response.json()
    issuer = f"http://127.0.0.1:8000/t/{tenant}"
    assert guide["issuer"] == issuer
    assert guide["discoveryUrl"] == f"{issuer}/.well-known/openid-configuration"
    assert guide["tokenUrl"] == f"{issuer}/token"
    assert guide["jwksUri"] == f"{issuer}/jwks"
    assert guide["clientId"] == "billing"
    assert guide["clientType"] == "confidential"
    assert guide["tokenEndpointAuthMethods"] == ["client_secret_basic", "client_secret_post"]
    assert [p["name"] for p in guide["permissions"]] == ["users:read", "events:read"]
    assert guide["apiConsole"] == "http://127.0.0.1:8000/api/docs"
    fragment = f"#clientId=billing&tokenUrl=http%3A%2F%2F127.0.0.1%3A8000%2Ft%2F{tenant}%2Ftoken"
    assert [(a["name"], a["console"]) for a in guide["apis"]] == [
        ("user/v1", f"http://127.0.0.1:8000/api/docs?urls.primaryName=user/v1{fragment}"),
        ("event/v1", f"http://127.0.0.1:8000/api/docs?urls.primaryName=event/v1{fragment}"),
        ("metric/v1", f"http://127.0.0.1:8000/api/docs?urls.primaryName=metric/v1{fragment}"),
    ]
    users_api = guide["apis"][0]
    assert users_api["base"] == f"http://127.0.0.1:8000/api/users/v1/tenants/{tenant}"
    assert users_api["curl"] == (
        f"curl -s 'http://127.0.0.1:8000/api/users/v1/tenants/{tenant}/users?limit=10' \\\n"
        '  -H "Authorization: Bearer $ACCESS_TOKEN"'
    )
    curl = guide["snippets"]["curl"]
    assert f"'{issuer}/token'" in curl
    assert "-u 'billing:<CLIENT_SECRET>'" in curl
    assert "grant_type=client_credentials" in curl
    assert "scope='users:read events:read'" in curl
    python = guide["snippets"]["python"]
    assert f'"{issuer}/token"' in python
    assert '("billing", "<CLIENT_SECRET>")' in python
    compile(python, "guide.py", "exec")  # the snippet is valid Python
    assert secret not in response.text
    assert guide["newestSecret"]["valueDisplay"] == secret[:7] + "…"  # the one place a pfs_ shows
    assert response.text.count("pfs_") == 1


async def test_guide_of_a_public_client_starts_the_code_flow(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    await client.post(
        f"/api/admin/v1/tenants/{tenant}/clients",
        json={
            "clientId": "spa",
            "requireClientSecret": False,
            "allowedGrantTypes": ["authorization_code"],
            "redirectUris": ["https://spa.example.com/callback"],
            "allowedScopes": ["openid"],
        },
        headers=admin,
    )
    guide = (await client.get(f"/api/admin/v1/tenants/{tenant}/clients/spa/guide", headers=admin)).json()
    assert guide["clientType"] == "public"
    assert guide["tokenEndpointAuthMethods"] == ["none"]
    assert "<CLIENT_SECRET>" not in guide["snippets"]["python"]
    assert 'code_challenge_method="S256"' in guide["snippets"]["python"]
    assert "https://spa.example.com/callback" in guide["snippets"]["python"]
    compile(guide["snippets"]["python"], "guide.py", "exec")


async def test_guide_of_unknown_client_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    response = await client.get(f"/api/admin/v1/tenants/{tenant}/clients/nope/guide", headers=admin)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:pforte:problem:not-found"
