"""Interoperability: third-party OAuth clients against a real ``pforte serve``.

Authlib (its requests ``OAuth2Session`` and its httpx ``AsyncOAuth2Client``, which Authlib 1.9
runs on httpx2), requests-oauthlib/oauthlib and PyJWT's ``PyJWKClient`` talk to one server
started for the module, as an application would: the endpoints come only from the discovery
document (DESIGN.md §2), the client and its secret from the admin API (§3, §5), and every access
token is verified as an RFC 9068 JWT against the tenant's JWKS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import jwt
import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from oauthlib.oauth2 import BackendApplicationClient, InvalidClientError, InvalidScopeError
from requests_oauthlib import OAuth2Session

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

API = "/api/admin/v1"
SLUG = "interop"
CLIENT_ID = "interop-svc"
SCOPES = ["clients:read", "events:read"]
ALL = "clients:read events:read"  # the granted scope string when none is asked for
LIFETIME = 120  # not the default 300, so expires_in and exp - iat show the client's own setting
TIMEOUT = 10


@dataclass(frozen=True, slots=True)
class Provider:
    """What a client application knows: the issuer's discovery document and its credentials."""

    public_url: str
    issuer: str
    token_endpoint: str
    jwks_uri: str
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def insecure_transport() -> Iterator[None]:
    """oauthlib refuses http:// token URLs unless told otherwise; the server is on loopback."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
        yield


@pytest.fixture(scope="module")
def provider(server: Server) -> Provider:
    """A tenant and a confidential client made through the admin API; endpoints from discovery."""
    banner = server.banner()
    assert banner is not None, server.stdout()
    with server.http(banner.api_key) as admin:
        tenant = admin.post(f"{API}/tenants", json={"slug": SLUG, "displayName": "Interop"})
        assert tenant.status_code == 201, tenant.text
        created = admin.post(
            f"{API}/tenants/{SLUG}/clients",
            json={
                "clientId": CLIENT_ID,
                "allowedGrantTypes": ["client_credentials"],
                "allowedScopes": SCOPES,
                "accessTokenLifetime": LIFETIME,
            },
        )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["clientId"] == CLIENT_ID
    assert body["requireClientSecret"] is True
    secret: str = body["secret"]["value"]
    assert secret.startswith("pfs_")

    issuer = f"{server.url}/t/{SLUG}"
    response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    document = response.json()
    return Provider(
        public_url=server.url,
        issuer=document["issuer"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        client_id=CLIENT_ID,
        client_secret=secret,
    )


@pytest.fixture(scope="module")
def jwks_client(provider: Provider) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(provider.jwks_uri, timeout=TIMEOUT)


def wrong(secret: str) -> str:
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


def verify(
    token: str, provider: Provider, jwks_client: jwt.PyJWKClient, *, scope: str, expires_in: int
) -> dict[str, Any]:
    """PyJWT verifies the access token with the key the JWKS names; RFC 9068 claims hold."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    jwks = requests.get(provider.jwks_uri, timeout=TIMEOUT).json()
    assert header["kid"] in [key["kid"] for key in jwks["keys"]]

    signing_key = jwks_client.get_signing_key_from_jwt(token)
    assert signing_key.key_id == header["kid"]
    claims: dict[str, Any] = jwt.decode(
        token,
        signing_key.key,
        algorithms=["ES256"],
        audience=f"{provider.public_url}/api",
        issuer=provider.issuer,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti", "client_id"]},
    )
    assert claims["iss"] == provider.issuer
    assert claims["aud"] == f"{provider.public_url}/api"
    assert claims["sub"] == provider.client_id
    assert claims["client_id"] == provider.client_id
    assert claims["scope"] == scope
    assert claims["exp"] - claims["iat"] == expires_in
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    return claims


# --- discovery -----------------------------------------------------------------------------


def test_discovery_names_the_endpoints_under_the_issuer(provider: Provider) -> None:
    issuer = f"{provider.public_url}/t/{SLUG}"
    assert provider.issuer == issuer
    assert provider.token_endpoint == f"{issuer}/token"
    assert provider.jwks_uri == f"{issuer}/jwks"
    document = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert document["grant_types_supported"] == [
        "client_credentials",
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    ]
    assert document["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert document["authorization_endpoint"] == f"{issuer}/authorize"
    assert document["userinfo_endpoint"] == f"{issuer}/userinfo"
    assert document["access_token_signing_alg_values_supported"] == ["ES256"]
    # RFC 8414 §3: the same metadata at the path-inserted well-known URL
    rfc8414 = requests.get(
        f"{provider.public_url}/.well-known/oauth-authorization-server/t/{SLUG}", timeout=TIMEOUT
    )
    assert rfc8414.status_code == 200
    assert rfc8414.json() == document


def test_authlib_validates_the_rfc8414_metadata(provider: Provider) -> None:
    document = requests.get(
        f"{provider.public_url}/.well-known/oauth-authorization-server/t/{SLUG}", timeout=TIMEOUT
    ).json()
    AuthorizationServerMetadata(document).validate()
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["authorization_response_iss_parameter_supported"] is True


# --- Authlib --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_requests_client_gets_a_token(
    provider: Provider, jwks_client: jwt.PyJWKClient, method: str
) -> None:
    sent: list[requests.PreparedRequest] = []
    with AuthlibSession(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method=method,
    ) as client:
        client.hooks["response"].append(lambda response, **_: sent.append(response.request))
        token = client.fetch_token(provider.token_endpoint, grant_type="client_credentials")

    # the method asked for is the one used on the wire
    (request,) = sent
    body = str(request.body)
    if method == "client_secret_basic":
        assert request.headers["Authorization"].startswith("Basic ")
        assert "client_secret" not in body
    else:
        assert "Authorization" not in request.headers
        assert f"client_id={provider.client_id}" in body
        assert f"client_secret={provider.client_secret}" in body

    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == LIFETIME
    assert token["scope"] == ALL
    assert set(token) == {"access_token", "token_type", "expires_in", "scope", "expires_at"}
    verify(token["access_token"], provider, jwks_client, scope=ALL, expires_in=LIFETIME)


def test_authlib_requests_client_with_a_scope_subset(
    provider: Provider, jwks_client: jwt.PyJWKClient
) -> None:
    with AuthlibSession(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method="client_secret_post",
        scope="clients:read",
    ) as client:
        token = client.fetch_token(provider.token_endpoint, grant_type="client_credentials")
    assert token["scope"] == "clients:read"
    verify(token["access_token"], provider, jwks_client, scope="clients:read", expires_in=LIFETIME)


@pytest.mark.anyio
async def test_authlib_async_httpx_client_gets_a_token(
    provider: Provider, jwks_client: jwt.PyJWKClient
) -> None:
    sent: list[httpx2.Request] = []

    async def record(response: httpx2.Response) -> None:
        sent.append(response.request)

    async with AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method="client_secret_basic",
        scope="events:read",
        event_hooks={"response": [record]},
    ) as client:
        token = await client.fetch_token(provider.token_endpoint, grant_type="client_credentials")
    (request,) = sent
    assert request.headers["authorization"].startswith("Basic ")
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == LIFETIME
    assert token["scope"] == "events:read"
    verify(token["access_token"], provider, jwks_client, scope="events:read", expires_in=LIFETIME)


def test_authlib_session_calls_the_admin_api_with_its_token(provider: Provider) -> None:
    """The token opens the platform API its scope names (DESIGN.md §5); Authlib sends it as Bearer."""
    own_client = f"{provider.public_url}{API}/tenants/{SLUG}/clients/{CLIENT_ID}"
    with AuthlibSession(client_id=provider.client_id, client_secret=provider.client_secret) as client:
        token = client.fetch_token(provider.token_endpoint, grant_type="client_credentials")
        response = client.get(own_client, timeout=TIMEOUT)
        other_tenant = client.get(f"{provider.public_url}{API}/tenants/system/clients", timeout=TIMEOUT)
    assert response.request.headers["Authorization"] == f"Bearer {token['access_token']}"
    assert response.status_code == 200, response.text
    assert response.json()["clientId"] == CLIENT_ID
    assert response.json()["allowedScopes"] == SCOPES
    assert "secret" not in response.json()
    assert other_tenant.status_code == 403
    assert other_tenant.headers["content-type"] == "application/problem+json"
    assert other_tenant.json()["detail"] == "this credential belongs to another tenant"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_introspects_and_revokes_through_the_discovered_endpoints(
    provider: Provider, method: str
) -> None:
    """RFC 7662 and RFC 7009 as Authlib's session speaks them, endpoints from discovery."""
    document = requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    with AuthlibSession(
        client_id=provider.client_id, client_secret=provider.client_secret, token_endpoint_auth_method=method
    ) as client:
        token = client.fetch_token(provider.token_endpoint, grant_type="client_credentials")["access_token"]
        live = client.introspect_token(document["introspection_endpoint"], token=token)
        revoked = client.revoke_token(
            document["revocation_endpoint"], token=token, token_type_hint="access_token"
        )
        after = client.introspect_token(document["introspection_endpoint"], token=token)
    assert live.status_code == 200, live.text
    claims = jwt.decode(token, options={"verify_signature": False})
    assert live.json() == {
        "active": True,
        "token_type": "Bearer",
        "scope": ALL,
        "client_id": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": f"{provider.public_url}/api",
        "iss": provider.issuer,
        "exp": claims["exp"],
        "iat": claims["iat"],
        "jti": claims["jti"],
    }
    assert revoked.status_code == 200
    assert revoked.content == b""
    assert after.json() == {"active": False}


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_wrong_secret_is_invalid_client(provider: Provider, method: str) -> None:
    with (
        AuthlibSession(
            client_id=provider.client_id,
            client_secret=wrong(provider.client_secret),
            token_endpoint_auth_method=method,
        ) as client,
        pytest.raises(OAuthError) as raised,
    ):
        client.fetch_token(provider.token_endpoint, grant_type="client_credentials")
    assert type(raised.value) is OAuthError
    assert raised.value.error == "invalid_client"
    assert raised.value.description == "client authentication failed"


def test_authlib_unallowed_scope_is_invalid_scope(provider: Provider) -> None:
    with (
        AuthlibSession(
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            scope="events:read clients:write",
        ) as client,
        pytest.raises(OAuthError) as raised,
    ):
        client.fetch_token(provider.token_endpoint, grant_type="client_credentials")
    assert raised.value.error == "invalid_scope"
    assert raised.value.description == "a requested scope is not allowed for this client"


@pytest.mark.anyio
async def test_authlib_async_wrong_secret_is_invalid_client(provider: Provider) -> None:
    async with AsyncOAuth2Client(
        client_id=provider.client_id, client_secret=wrong(provider.client_secret)
    ) as client:
        with pytest.raises(OAuthError) as raised:
            await client.fetch_token(provider.token_endpoint, grant_type="client_credentials")
    assert raised.value.error == "invalid_client"
    assert raised.value.description == "client authentication failed"


# --- requests-oauthlib / oauthlib -----------------------------------------------------------


@pytest.mark.usefixtures("insecure_transport")
def test_requests_oauthlib_backend_application_client(
    provider: Provider, jwks_client: jwt.PyJWKClient
) -> None:
    sent: list[requests.PreparedRequest] = []
    with OAuth2Session(client=BackendApplicationClient(client_id=provider.client_id)) as session:
        session.hooks["response"].append(lambda response, **_: sent.append(response.request))
        token = session.fetch_token(
            provider.token_endpoint, client_id=provider.client_id, client_secret=provider.client_secret
        )
    # requests-oauthlib sends the client id and secret as HTTP Basic (client_secret_basic)
    (request,) = sent
    assert request.headers["Authorization"].startswith("Basic ")
    assert request.body == "grant_type=client_credentials"
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == LIFETIME
    assert token["scope"] == SCOPES  # oauthlib splits the scope string
    verify(token["access_token"], provider, jwks_client, scope=ALL, expires_in=LIFETIME)


@pytest.mark.usefixtures("insecure_transport")
def test_requests_oauthlib_with_a_scope_subset(provider: Provider, jwks_client: jwt.PyJWKClient) -> None:
    # oauthlib compares the granted scope with the requested one and raises if they differ
    client = BackendApplicationClient(client_id=provider.client_id, scope=["events:read"])
    with OAuth2Session(client=client) as session:
        token = session.fetch_token(
            provider.token_endpoint, client_id=provider.client_id, client_secret=provider.client_secret
        )
    assert token["scope"] == ["events:read"]
    assert token["expires_in"] == LIFETIME
    verify(token["access_token"], provider, jwks_client, scope="events:read", expires_in=LIFETIME)


@pytest.mark.usefixtures("insecure_transport")
def test_requests_oauthlib_token_without_the_permission_gets_insufficient_scope(provider: Provider) -> None:
    client = BackendApplicationClient(client_id=provider.client_id, scope=["events:read"])
    with OAuth2Session(client=client) as session:
        session.fetch_token(
            provider.token_endpoint, client_id=provider.client_id, client_secret=provider.client_secret
        )
        response = session.get(f"{provider.public_url}{API}/tenants/{SLUG}/clients", timeout=TIMEOUT)
    assert response.request.headers["Authorization"] == f"Bearer {session.access_token}"
    assert response.status_code == 403
    # RFC 6750 §3.1: the token is good, its scope is not enough, and the challenge names what is
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="pforte", error="insufficient_scope", scope="clients:read"'
    )
    assert response.json()["detail"] == "the permission clients:read is required"


@pytest.mark.usefixtures("insecure_transport")
def test_requests_oauthlib_wrong_secret_is_invalid_client_error(provider: Provider) -> None:
    with (
        OAuth2Session(client=BackendApplicationClient(client_id=provider.client_id)) as session,
        pytest.raises(InvalidClientError) as raised,
    ):
        session.fetch_token(
            provider.token_endpoint, client_id=provider.client_id, client_secret=wrong(provider.client_secret)
        )
    assert raised.value.error == "invalid_client"
    assert raised.value.description == "client authentication failed"
    assert raised.value.status_code == 401


@pytest.mark.usefixtures("insecure_transport")
def test_requests_oauthlib_unallowed_scope_is_invalid_scope_error(provider: Provider) -> None:
    client = BackendApplicationClient(client_id=provider.client_id, scope=["clients:write"])
    with (
        OAuth2Session(client=client) as session,
        pytest.raises(InvalidScopeError) as raised,
    ):
        session.fetch_token(
            provider.token_endpoint, client_id=provider.client_id, client_secret=provider.client_secret
        )
    assert raised.value.error == "invalid_scope"
    assert raised.value.description == "a requested scope is not allowed for this client"
