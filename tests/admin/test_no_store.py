"""Every response that shows a credential's value carries ``Cache-Control: no-store`` and
``Pragma: no-cache`` (RFC 9111 §5.2.2.5; RFC 6749 §5.1 for the token response), and declares
them in the OpenAPI document; responses without a value are left to the usual caching."""

from __future__ import annotations

import httpx
import pytest

from tests.protocol.oauth import FORM, assert_json, basic_auth, register

pytestmark = pytest.mark.anyio
BASE = "/api/admin/v1/tenants"
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def assert_no_store(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert {name: response.headers.get(name) for name in NO_STORE} == NO_STORE


async def test_admin_responses_with_a_value_are_never_stored(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    clients = f"{BASE}/{tenant}/clients"
    confidential = await client.post(
        clients, json={"clientId": "shown", "allowedScopes": ["clients:read"]}, headers=admin
    )
    assert_no_store(confidential, 201)
    assert confidential.json()["secret"]["value"].startswith("pfs_")
    secret = await client.post(f"{clients}/shown/secrets", json={}, headers=admin)
    assert_no_store(secret, 201)
    assert secret.json()["value"].startswith("pfs_")
    key = await client.post(
        f"{clients}/shown/api-keys", json={"name": "ci", "scopes": ["clients:read"]}, headers=admin
    )
    assert_no_store(key, 201)
    assert key.json()["value"].startswith("pfk_")
    # Reads show no value: no such headers.
    for url in (f"{clients}/shown", f"{clients}/shown/secrets", f"{clients}/shown/api-keys"):
        read = await client.get(url, headers=admin)
        assert read.status_code == 200
        assert "cache-control" not in read.headers and "pragma" not in read.headers


async def test_openapi_declares_the_headers_of_the_three_creates(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/admin/v1/openapi.json")).json()["paths"]
    for path in (
        "/tenants/{tenant}/clients",
        "/tenants/{tenant}/clients/{clientId}/secrets",
        "/tenants/{tenant}/clients/{clientId}/api-keys",
    ):
        created = paths[path]["post"]["responses"]["201"]
        assert created["headers"]["Cache-Control"]["schema"]["enum"] == ["no-store"]
        assert created["headers"]["Pragma"]["schema"]["enum"] == ["no-cache"]
        assert "$ref" in created["content"]["application/json"]["schema"]


async def test_token_introspect_revoke_and_their_errors_are_never_stored(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    app = await register(client, admin, tenant)
    token = await app.access_token()
    assert_json(await app.introspect(token), 200)
    assert_no_store(await app.revoke(token), 200)
    refused = await client.post(
        app.url("token"), data={"grant_type": "client_credentials"}, headers=FORM | basic_auth("svc", "wrong")
    )
    assert_json(refused, 401)
    too_large = await client.post(app.url("token"), content=b"a=" + b"x" * 9000, headers=FORM)
    assert_json(too_large, 413)
