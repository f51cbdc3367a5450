"""RFC 6749 §4.4 client credentials at ``/t/{slug}/token``, with RFC 9068 JWT access tokens."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, quote_plus

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import update

from pforte.domain.clock import utcnow
from pforte.domain.oauth.forms import form_pairs
from pforte.services.context import Context
from pforte.store.tables import ClientSecretRow
from tests.conftest import moment, snapshot

pytestmark = pytest.mark.anyio
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {**FORM, "Authorization": "Basic " + base64.b64encode(raw).decode()}


async def new_client(client: httpx.AsyncClient, admin: dict[str, str], tenant: str, **fields: Any) -> str:
    body = {"clientId": "svc", "allowedScopes": ["users:read", "events:read"], **fields}
    response = await client.post(f"/api/admin/v1/tenants/{tenant}/clients", json=body, headers=admin)
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]["value"]
    return secret


async def issue(client: httpx.AsyncClient, tenant: str, secret: str, path: str = "token") -> httpx.Response:
    """A client_credentials request of ``svc`` with Basic authentication."""
    return await client.post(
        f"/t/{tenant}/{path}", content="grant_type=client_credentials", headers=basic("svc", secret)
    )


def assert_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == error
    assert set(response.json()) == {"error", "error_description"}


async def test_basic_auth_issues_an_rfc9068_jwt_verified_through_the_jwks(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    secret = await new_client(client, admin, tenant)
    response = await issue(client, tenant, secret)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "users:read events:read"
    keys = KeySet.import_key_set((await client.get(f"/t/{tenant}/jwks")).json())
    token = jwt.decode(body["access_token"], keys)
    assert token.header["typ"] == "at+jwt"
    assert token.header["alg"] == "ES256"
    claims = token.claims
    assert claims["iss"] == f"http://127.0.0.1:8000/t/{tenant}"
    assert claims["sub"] == "svc"
    assert claims["client_id"] == "svc"
    assert claims["aud"] == "http://127.0.0.1:8000/api"
    assert claims["scope"] == "users:read events:read"
    assert claims["exp"] - claims["iat"] == 300
    assert len(claims["jti"]) >= 16


async def test_post_auth_and_a_narrower_scope(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    secret = await new_client(client, admin, tenant, accessTokenLifetime=60)
    form = {
        "grant_type": "client_credentials",
        "client_id": "svc",
        "client_secret": secret,
        "scope": "events:read",
    }
    response = await client.post(f"/t/{tenant}/token", data=form)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "events:read"
    assert response.json()["expires_in"] == 60


async def test_every_valid_secret_authenticates(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    first = await new_client(client, admin, tenant)
    second = (
        await client.post(f"/api/admin/v1/tenants/{tenant}/clients/svc/secrets", json={}, headers=admin)
    ).json()["value"]
    for secret in (first, second):
        response = await client.post(
            f"/t/{tenant}/token", content="grant_type=client_credentials", headers=basic("svc", secret)
        )
        assert response.status_code == 200


@pytest.mark.parametrize(
    "case", ["wrong secret", "unknown client", "disabled", "expired", "not yet valid", "revoked"]
)
async def test_invalid_client_is_one_answer_for_every_cause(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, case: str
) -> None:
    secret = await new_client(client, admin, tenant)
    client_id = "svc"
    secrets_url = f"/api/admin/v1/tenants/{tenant}/clients/svc/secrets"
    if case == "wrong secret":
        secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    elif case == "unknown client":
        client_id = "nobody"
    elif case == "disabled":
        await client.patch(
            f"/api/admin/v1/tenants/{tenant}/clients/svc", json={"enabled": False}, headers=admin
        )
    elif case == "revoked":
        (only,) = (await client.get(secrets_url, headers=admin)).json()["items"]
        assert (await client.delete(f"{secrets_url}/{only['id']}", headers=admin)).status_code == 204
    else:
        now = utcnow()
        values = {"expiration": now} if case == "expired" else {"start_time": now + timedelta(hours=1)}
        async with ctx.db.transaction() as session:
            await session.execute(
                update(ClientSecretRow)
                .values(**values)
                .where(ClientSecretRow.value_display == secret[:7] + "…")
            )
    before = await snapshot(ctx)
    response = await client.post(
        f"/t/{tenant}/token", content="grant_type=client_credentials", headers=basic(client_id, secret)
    )
    assert_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="pforte", charset="UTF-8"'
    assert response.json()["error_description"] == "client authentication failed"
    assert await snapshot(ctx) == before


async def test_invalid_client_by_post_has_no_basic_challenge(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    await new_client(client, admin, tenant)
    form = {"grant_type": "client_credentials", "client_id": "svc", "client_secret": "wrong"}
    response = await client.post(f"/t/{tenant}/token", data=form)
    assert_error(response, 401, "invalid_client")
    assert "www-authenticate" not in response.headers


async def test_no_client_authentication_is_invalid_client(client: httpx.AsyncClient, tenant: str) -> None:
    response = await client.post(f"/t/{tenant}/token", data={"grant_type": "client_credentials"})
    assert_error(response, 401, "invalid_client")


async def test_two_authentication_methods_are_invalid_request(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    secret = await new_client(client, admin, tenant)
    before = await snapshot(ctx)
    response = await client.post(
        f"/t/{tenant}/token",
        content=f"grant_type=client_credentials&client_secret={quote_plus(secret)}",
        headers=basic("svc", secret),
    )
    assert_error(response, 400, "invalid_request")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize(
    ("content", "headers_kind", "error"),
    [
        ("grant_type=client_credentials&grant_type=client_credentials", "form", "invalid_request"),
        ("scope=users:read", "form", "invalid_request"),
        ('{"grant_type": "client_credentials"}', "json", "invalid_request"),
        ("grant_type=urn:ietf:params:oauth:grant-type:device_code", "form", "unsupported_grant_type"),
        ("grant_type=password", "form", "unauthorized_client"),  # implemented, not for this client
    ],
)
async def test_malformed_requests(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    content: str,
    headers_kind: str,
    error: str,
) -> None:
    secret = await new_client(client, admin, tenant)
    headers = basic("svc", secret)
    if headers_kind == "json":
        headers["Content-Type"] = "application/json"
    before = await snapshot(ctx)
    assert_error(await client.post(f"/t/{tenant}/token", content=content, headers=headers), 400, error)
    assert await snapshot(ctx) == before


async def test_a_client_without_the_grant_is_unauthorized_client(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    secret = await new_client(
        client,
        admin,
        tenant,
        allowedGrantTypes=["authorization_code"],
        redirectUris=["https://app.example.com/cb"],
    )
    before = await snapshot(ctx)
    response = await client.post(
        f"/t/{tenant}/token", content="grant_type=client_credentials", headers=basic("svc", secret)
    )
    assert_error(response, 400, "unauthorized_client")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("scope", ["clients:write", "users:read clients:write", "bad\\scope"])
async def test_a_scope_not_allowed_is_invalid_scope(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, scope: str
) -> None:
    secret = await new_client(client, admin, tenant)
    form = {"grant_type": "client_credentials", "scope": scope}
    before = await snapshot(ctx)
    response = await client.post(f"/t/{tenant}/token", data=form, headers=basic("svc", secret))
    assert_error(response, 400, "invalid_scope")
    assert await snapshot(ctx) == before


async def test_a_secret_of_another_tenant_does_not_authenticate(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    secret = await new_client(client, admin, tenant)
    other = (await client.post("/api/admin/v1/tenants", json={"slug": f"{tenant}-b"}, headers=admin)).json()[
        "slug"
    ]
    await new_client(client, admin, other)
    response = await client.post(
        f"/t/{other}/token", content="grant_type=client_credentials", headers=basic("svc", secret)
    )
    assert_error(response, 401, "invalid_client")


async def test_unknown_tenant_is_404_and_large_bodies_413(client: httpx.AsyncClient, tenant: str) -> None:
    response = await client.post(
        "/t/no-such-tenant/token", content="grant_type=client_credentials", headers=basic("a", "b")
    )
    assert response.status_code == 404
    big = "grant_type=client_credentials&pad=" + "x" * 9000
    assert (await client.post(f"/t/{tenant}/token", content=big, headers=basic("a", "b"))).status_code == 413


# --- lastUsedAt without a write per request ------------------------------------------------


async def test_last_used_at_is_written_in_batches_not_per_request(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    secret = await new_client(client, admin, tenant)
    secrets_url = f"/api/admin/v1/tenants/{tenant}/clients/svc/secrets"
    assert (await client.get(secrets_url, headers=admin)).json()["items"][0]["lastUsedAt"] is None
    before = utcnow()
    for _ in range(3):
        assert (await issue(client, tenant, secret)).status_code == 200
    after = utcnow()
    # The hot path wrote nothing: the uses wait in memory for the next flush (every 30 s).
    assert (await client.get(secrets_url, headers=admin)).json()["items"][0]["lastUsedAt"] is None
    assert ctx.usage.pending == 1
    assert await ctx.usage.flush(ctx.db) == 1
    assert ctx.usage.pending == 0
    used = (await client.get(secrets_url, headers=admin)).json()["items"][0]["lastUsedAt"]
    assert used is not None
    assert before - timedelta(seconds=1) <= moment(used) <= after + timedelta(seconds=1)
    assert await ctx.usage.flush(ctx.db) == 0  # nothing new: nothing written


async def test_a_refused_request_records_no_use(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    secret = await new_client(client, admin, tenant)
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert (await issue(client, tenant, wrong)).status_code == 401
    assert ctx.usage.pending == 0


# --- the form parser's fast path is parse_qsl -----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "grant_type=client_credentials",
        "grant_type=client_credentials&scope=a%20b",
        "scope=a+b&grant_type=x",
        "a=&b&=c&&d=e=f",
        "",
        "&",
        "x=%C3%A9",
        "a=1&a=2",
        "&".join(f"f{i}=v" for i in range(32)),
    ],
)
def test_form_pairs_are_what_parse_qsl_gives(text: str) -> None:
    expected = parse_qsl(text, keep_blank_values=True, max_num_fields=32)
    assert form_pairs(text) == expected


def test_form_pairs_refuse_too_many_fields_like_parse_qsl() -> None:
    text = "&".join(f"f{i}=v" for i in range(33))
    with pytest.raises(ValueError):
        parse_qsl(text, keep_blank_values=True, max_num_fields=32)
    with pytest.raises(ValueError):
        form_pairs(text)


async def test_a_trailing_slash_names_the_same_endpoint(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    secret = await new_client(client, admin, tenant)
    response = await issue(client, tenant, secret, "token/")
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"
    assert (await issue(client, tenant, secret, "token//")).status_code == 404
