"""RFC 8414 / OIDC Discovery: metadata from what the tenant really supports, at both paths."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "path", ["/t/{slug}/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/t/{slug}"]
)
async def test_metadata_names_the_implemented_endpoints(
    client: httpx.AsyncClient, tenant: str, path: str
) -> None:
    response = await client.get(path.format(slug=tenant))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    issuer = f"http://127.0.0.1:8000/t/{tenant}"
    doc = response.json()
    assert doc["issuer"] == issuer  # RFC 8414 §3.3: identical to the issuer it was fetched for
    assert doc["token_endpoint"] == f"{issuer}/token"
    assert doc["jwks_uri"] == f"{issuer}/jwks"
    assert doc["grant_types_supported"] == [
        "client_credentials",
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:token-exchange",  # RFC 8693 §5.1 (impersonation)
    ]
    methods = ["client_secret_basic", "client_secret_post", "none"]
    assert doc["token_endpoint_auth_methods_supported"] == methods
    assert doc["introspection_endpoint"] == f"{issuer}/introspect"
    # a public client (none) may revoke its tokens but not introspect
    assert doc["introspection_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert doc["revocation_endpoint"] == f"{issuer}/revoke"
    assert doc["revocation_endpoint_auth_methods_supported"] == methods
    assert doc["authorization_endpoint"] == f"{issuer}/authorize"
    assert doc["response_types_supported"] == ["code"]
    assert doc["response_modes_supported"] == ["query"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["authorization_response_iss_parameter_supported"] is True  # RFC 9207 §3
    assert doc["subject_types_supported"] == ["public"]
    assert doc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert doc["access_token_signing_alg_values_supported"] == ["ES256"]
    assert "tenants:admin" not in doc["scopes_supported"]
    assert {"openid", "profile", "email", "users:read"} <= set(doc["scopes_supported"])
    # Not advertised until implemented: the password grant is never advertised (RFC 9700 §2.4).
    assert "password" not in doc["grant_types_supported"]
    assert doc["userinfo_endpoint"] == f"{issuer}/userinfo"
    assert doc["end_session_endpoint"] == f"{issuer}/logout"
    assert doc["backchannel_logout_supported"] is True


async def test_the_advertised_endpoints_answer(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    doc = (await client.get(f"/t/{tenant}/.well-known/openid-configuration")).json()
    local = doc["jwks_uri"].replace("http://127.0.0.1:8000", "")
    assert (await client.get(local)).status_code == 200
    created = await client.post(
        f"/api/admin/v1/tenants/{tenant}/clients", json={"clientId": "svc"}, headers=admin
    )
    secret = created.json()["secret"]["value"]
    token = await client.post(
        doc["token_endpoint"].replace("http://127.0.0.1:8000", ""),
        data={"grant_type": "client_credentials"},
        auth=("svc", secret),
    )
    assert token.status_code == 200
    access = token.json()["access_token"]
    for endpoint in ("introspection_endpoint", "revocation_endpoint"):
        answer = await client.post(
            doc[endpoint].replace("http://127.0.0.1:8000", ""), data={"token": access}, auth=("svc", secret)
        )
        assert answer.status_code == 200, endpoint


async def test_system_advertises_tenants_admin(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/.well-known/oauth-authorization-server/t/system")).json()
    assert "tenants:admin" in doc["scopes_supported"]


async def test_unknown_tenant_is_404(client: httpx.AsyncClient) -> None:
    for path in (
        "/t/nope-nope/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/t/nope-nope",
    ):
        response = await client.get(path)
        assert response.status_code == 404
        assert "cache-control" not in response.headers
