"""Clients through the admin API (DESIGN.md §3, §5).

``/api/admin/v1/tenants/{tenant}/clients``: create (a confidential client's first secret is
returned once), read, list with cursor pagination, replace (PUT), merge-patch (PATCH), delete.
Every refused request is an RFC 9457 problem and leaves the database as it was; every change
is audited without a secret value; no caller grants a permission it does not hold.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pforte.domain import credentials as cred
from pforte.domain.consoles import BUILTIN_CLIENT_IDS
from pforte.services import roles as role_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.store.tables import ApiKeyRow, ClientSecretRow
from tests.conftest import assert_problem, audit_events, bearer, make_key, make_tenant, moment, snapshot

pytestmark = pytest.mark.anyio

BASE = "/api/admin/v1/tenants"
SECRET_RE = re.compile(r"pfs_[0-9A-Za-z]{49}")
MAX_LIFETIME = 10 * 365 * 24 * 3600
MAX_ACCESS_LIFETIME = 24 * 3600

# DESIGN.md §3: every field a client has when only clientId is given.
DEFAULTS: dict[str, Any] = {
    "clientName": None,
    "description": None,
    "owner": None,
    "enabled": True,
    "requireClientSecret": True,
    "allowedGrantTypes": ["client_credentials"],
    "allowedScopes": [],
    "redirectUris": [],
    "allowRedirectUriPrefix": False,
    "postLogoutRedirectUris": [],
    "allowedCorsOrigins": [],
    "allowOfflineAccess": False,
    "requireConsent": False,
    "allowRememberConsent": True,
    "allowNoPkce": False,
    "allowRopc": False,
    "backChannelLogoutUri": None,
    "backChannelLogoutSessionRequired": True,
    "restrictToRole": None,
    "showInAccountConsole": False,
    "accessTokenLifetime": 300,
    "refreshTokenLifetime": 2592000,
}
PUBLIC_FIELDS = set(DEFAULTS) | {"id", "clientId", "createdAt", "updatedAt"}
SECRET_FIELDS = {
    *("id", "description", "startTime", "expiration", "valueDisplay", "createdAt", "createdBy", "lastUsedAt"),
    "newest",
}
PUBLIC_APP: dict[str, Any] = {
    "requireClientSecret": False,
    "allowedGrantTypes": ["authorization_code"],
    "redirectUris": ["https://app.example.com/cb"],
}
READ_WRITE = ["clients:read", "clients:write"]


# --- helpers -------------------------------------------------------------------------------


def clients_url(tenant: str) -> str:
    return f"{BASE}/{tenant}/clients"


def client_url(tenant: str, client_id: str) -> str:
    return f"{BASE}/{tenant}/clients/{client_id}"


def unique(prefix: str = "app") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def without(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in names}


async def create(
    http: httpx.AsyncClient, headers: dict[str, str], tenant: str, **fields: Any
) -> dict[str, Any]:
    body = {"clientId": unique(), **fields}
    response = await http.post(clients_url(tenant), json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def assert_invalid(response: httpx.Response, field: str) -> dict[str, Any]:
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"], body
    assert body["errors"][0]["field"] == field, body
    assert body["errors"][0]["message"]
    return body


async def count_of(ctx: Context, row: type[ClientSecretRow] | type[ApiKeyRow], client_pk: str) -> int:
    async with ctx.db.transaction() as session:
        stmt = select(func.count()).select_from(row).where(row.client_pk == uuid.UUID(client_pk))
        return int(await session.scalar(stmt) or 0)


async def key_holder(
    http: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, permissions: list[str]
) -> tuple[dict[str, str], str]:
    """Headers with a fresh API key holding ``permissions``, and the key's audit actor label."""
    holder = unique("holder")
    key = await make_key(ctx, tenant, permissions, client_id=holder)
    listed = await http.get(f"{client_url(tenant, holder)}/api-keys", headers=admin)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    return bearer(key), f"api_key:{item['id']}"


async def list_all(http: httpx.AsyncClient, admin: dict[str, str], tenant: str) -> list[dict[str, Any]]:
    response = await http.get(clients_url(tenant), params={"limit": "200"}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["next"] is None
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- create: defaults and the first secret -------------------------------------------------


async def test_create_with_only_client_id_has_every_default(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    client_id = unique()
    before = datetime.now(UTC)
    response = await client.post(clients_url(tenant), json={"clientId": client_id}, headers=admin)
    after = datetime.now(UTC)

    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == PUBLIC_FIELDS | {"secret"}
    assert body["clientId"] == client_id
    assert {k: body[k] for k in DEFAULTS} == DEFAULTS
    assert uuid.UUID(body["id"]).version == 7
    created, updated = moment(body["createdAt"]), moment(body["updatedAt"])
    assert before <= created <= after
    assert updated == created


async def test_create_returns_the_first_secret_once_and_stores_only_a_hash(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    body = await create(client, admin, tenant)
    secret = body["secret"]
    assert set(secret) == SECRET_FIELDS | {"value"}
    value = secret["value"]
    assert value.startswith("pfs_")
    assert len(value) == 53
    assert SECRET_RE.fullmatch(value)
    assert cred.is_well_formed(value, cred.Kind.CLIENT_SECRET)
    assert secret["valueDisplay"] == value[:7] + "…"
    assert secret["lastUsedAt"] is None
    # Made by whoever created the client, named as its audit event names them.
    (created_event,) = await audit_events(ctx, "client.created", body["clientId"])
    assert secret["createdBy"] == created_event.actor
    assert secret["createdBy"].startswith("api_key:")

    fetched = await client.get(client_url(tenant, body["clientId"]), headers=admin)
    assert fetched.status_code == 200
    assert fetched.json() == without(body, "secret")
    assert value not in fetched.text

    listed = await client.get(f"{client_url(tenant, body['clientId'])}/secrets", headers=admin)
    assert listed.status_code == 200
    assert value not in listed.text
    assert listed.json()["items"] == [without(secret, "value")]

    rows = await snapshot(ctx)
    assert value not in repr(rows)
    assert value[4:] not in repr(rows)
    async with ctx.db.transaction() as session:
        stored = await session.get(ClientSecretRow, uuid.UUID(secret["id"]))
    assert stored is not None
    assert stored.value_hash != value
    assert stored.value_hash == ctx.hasher.hash(value)


async def test_public_client_gets_no_secret(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    body = await create(client, admin, tenant, **PUBLIC_APP)
    assert body["secret"] is None
    assert body["requireClientSecret"] is False
    assert body["allowedGrantTypes"] == ["authorization_code"]
    assert body["redirectUris"] == ["https://app.example.com/cb"]
    assert await count_of(ctx, ClientSecretRow, body["id"]) == 0
    listed = await client.get(f"{client_url(tenant, body['clientId'])}/secrets", headers=admin)
    assert listed.status_code == 200
    assert listed.json() == {"items": [], "next": None}


async def test_create_keeps_every_field_given(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, ctx: Context
) -> None:
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name="billing-admin", description=None, permissions=[]
    )
    fields: dict[str, Any] = {
        "clientName": "Billing",
        "description": "Nightly billing export",
        "owner": "ops@example.com",
        "enabled": False,
        "requireClientSecret": True,
        "allowedGrantTypes": ["authorization_code", "refresh_token", "client_credentials"],
        "allowedScopes": ["openid", "profile", "clients:read", "billing.export"],
        "redirectUris": ["https://app.example.com/cb", "http://127.0.0.1:8080/cb"],
        "allowRedirectUriPrefix": False,
        "postLogoutRedirectUris": ["https://app.example.com/bye"],
        "allowedCorsOrigins": ["https://app.example.com", "http://localhost:3000"],
        "allowOfflineAccess": True,
        "requireConsent": True,
        "allowRememberConsent": False,
        "allowNoPkce": True,
        "allowRopc": False,
        "backChannelLogoutUri": "https://app.example.com/logout",
        "backChannelLogoutSessionRequired": False,
        "restrictToRole": "billing-admin",
        "showInAccountConsole": True,
        "accessTokenLifetime": 900,
        "refreshTokenLifetime": 86400,
    }
    body = await create(client, admin, tenant, **fields)
    assert {k: body[k] for k in fields} == fields
    fetched = await client.get(client_url(tenant, body["clientId"]), headers=admin)
    assert {k: fetched.json()[k] for k in fields} == fields


async def test_create_removes_duplicate_list_entries(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    body = await create(
        client,
        admin,
        tenant,
        allowedGrantTypes=["client_credentials", "client_credentials"],
        allowedScopes=["openid", "clients:read", "openid"],
    )
    assert body["allowedGrantTypes"] == ["client_credentials"]
    assert body["allowedScopes"] == ["openid", "clients:read"]


# --- create: validation --------------------------------------------------------------------

INVALID_FIELDS: list[tuple[str, dict[str, Any], str]] = [
    # clientId: [A-Za-z0-9._~-]{1,128}, not "." or ".."
    ("client-id-space", {"clientId": "my app"}, "clientId"),
    ("client-id-slash", {"clientId": "app/one"}, "clientId"),
    ("client-id-umlaut", {"clientId": "äpp"}, "clientId"),
    ("client-id-percent", {"clientId": "app%20x"}, "clientId"),
    ("client-id-empty", {"clientId": ""}, "clientId"),
    ("client-id-dot", {"clientId": "."}, "clientId"),
    ("client-id-dotdot", {"clientId": ".."}, "clientId"),
    ("client-id-129", {"clientId": "a" * 129}, "clientId"),
    ("client-id-null", {"clientId": None}, "clientId"),
    ("client-id-number", {"clientId": 123}, "clientId"),
    # grant types and scopes
    ("grant-unknown", {"allowedGrantTypes": ["implicit"]}, "allowedGrantTypes[0]"),
    (
        "grant-unknown-second",
        {"allowedGrantTypes": ["client_credentials", "implicit"]},
        "allowedGrantTypes[1]",
    ),
    (
        "grant-index-after-duplicate",
        {"allowedGrantTypes": ["client_credentials", "client_credentials", "implicit"]},
        "allowedGrantTypes[2]",
    ),
    ("permission-typo", {"allowedScopes": ["openid", "clients:raed"]}, "allowedScopes[1]"),
    (
        "permission-index-after-duplicate",
        {"allowedScopes": ["openid", "openid", "users:wirte"]},
        "allowedScopes[2]",
    ),
    ("tenants-admin-outside-system", {"allowedScopes": ["tenants:admin"]}, "allowedScopes[0]"),
    ("scope-not-a-token", {"allowedScopes": ["bad scope"]}, "allowedScopes[0]"),
    ("scope-quote", {"allowedScopes": ['say"hi']}, "allowedScopes[0]"),
    # redirect URIs
    ("redirect-prefix-not-allowed", {"redirectUris": ["https://app.example.com/cb*"]}, "redirectUris[0]"),
    ("redirect-http-remote", {"redirectUris": ["http://app.example.com/cb"]}, "redirectUris[0]"),
    ("redirect-fragment", {"redirectUris": ["https://app.example.com/cb#top"]}, "redirectUris[0]"),
    ("redirect-relative", {"redirectUris": ["/cb"]}, "redirectUris[0]"),
    (
        "redirect-userinfo-second",
        {"redirectUris": ["https://app.example.com/cb", "https://user@app.example.com/cb"]},
        "redirectUris[1]",
    ),
    ("redirect-star-inside", {"redirectUris": ["https://*.example.com/cb"]}, "redirectUris[0]"),
    # RFC 8252 §7: https, loopback http or a reverse-domain private-use scheme, nothing else
    ("redirect-javascript", {"redirectUris": ["javascript:alert(1)"]}, "redirectUris[0]"),
    ("redirect-javascript-upper", {"redirectUris": ["JavaScript:alert(1)"]}, "redirectUris[0]"),
    ("redirect-data", {"redirectUris": ["data:text/html,<script>alert(1)</script>"]}, "redirectUris[0]"),
    ("redirect-file", {"redirectUris": ["file:///etc/passwd"]}, "redirectUris[0]"),
    ("redirect-vbscript", {"redirectUris": ["vbscript:msgbox(1)"]}, "redirectUris[0]"),
    (
        "redirect-javascript-second",
        {"redirectUris": ["https://app.example.com/cb", "javascript://app.example.com/%0aalert(1)"]},
        "redirectUris[1]",
    ),
    ("redirect-scheme-without-dot", {"redirectUris": ["myapp:/cb"]}, "redirectUris[0]"),
    ("redirect-ftp", {"redirectUris": ["ftp://app.example.com/cb"]}, "redirectUris[0]"),
    (
        "redirect-javascript-prefix",
        {"redirectUris": ["javascript:alert(1)//*"], "allowRedirectUriPrefix": True},
        "redirectUris[0]",
    ),
    (
        "post-logout-javascript",
        {"postLogoutRedirectUris": ["javascript:alert(1)"]},
        "postLogoutRedirectUris[0]",
    ),
    ("post-logout-data", {"postLogoutRedirectUris": ["data:,bye"]}, "postLogoutRedirectUris[0]"),
    ("post-logout-file", {"postLogoutRedirectUris": ["file:///etc/passwd"]}, "postLogoutRedirectUris[0]"),
    ("back-channel-javascript", {"backChannelLogoutUri": "javascript:alert(1)"}, "backChannelLogoutUri"),
    ("back-channel-file", {"backChannelLogoutUri": "file:///etc/passwd"}, "backChannelLogoutUri"),
    (
        "back-channel-private-scheme",
        {"backChannelLogoutUri": "com.example.app:/logout"},
        "backChannelLogoutUri",
    ),
    (
        "post-logout-http-remote",
        {"postLogoutRedirectUris": ["http://app.example.com/"]},
        "postLogoutRedirectUris[0]",
    ),
    (
        "back-channel-http-remote",
        {"backChannelLogoutUri": "http://rp.example.com/logout"},
        "backChannelLogoutUri",
    ),
    # CORS origins
    ("cors-with-path", {"allowedCorsOrigins": ["https://app.example.com/path"]}, "allowedCorsOrigins[0]"),
    (
        "cors-no-scheme",
        {"allowedCorsOrigins": ["https://app.example.com", "app.example.com"]},
        "allowedCorsOrigins[1]",
    ),
    ("cors-with-query", {"allowedCorsOrigins": ["https://app.example.com?x=1"]}, "allowedCorsOrigins[0]"),
    # lifetimes
    ("access-lifetime-zero", {"accessTokenLifetime": 0}, "accessTokenLifetime"),
    ("access-lifetime-negative", {"accessTokenLifetime": -300}, "accessTokenLifetime"),
    ("access-lifetime-too-long", {"accessTokenLifetime": MAX_ACCESS_LIFETIME + 1}, "accessTokenLifetime"),
    ("refresh-lifetime-too-long", {"refreshTokenLifetime": MAX_LIFETIME + 1}, "refreshTokenLifetime"),
    ("refresh-lifetime-zero", {"refreshTokenLifetime": 0}, "refreshTokenLifetime"),
    ("refresh-lifetime-negative", {"refreshTokenLifetime": -1}, "refreshTokenLifetime"),
    # strict JSON types
    ("enabled-string", {"enabled": "yes"}, "enabled"),
    ("enabled-number", {"enabled": 1}, "enabled"),
    ("require-secret-string", {"requireClientSecret": "false"}, "requireClientSecret"),
    ("lifetime-string", {"accessTokenLifetime": "300"}, "accessTokenLifetime"),
    ("lifetime-fraction", {"accessTokenLifetime": 300.5}, "accessTokenLifetime"),
    ("lifetime-bool", {"refreshTokenLifetime": True}, "refreshTokenLifetime"),
    ("scopes-not-a-list", {"allowedScopes": "openid"}, "allowedScopes"),
    ("redirect-not-a-string", {"redirectUris": [1]}, "redirectUris[0]"),
    ("name-number", {"clientName": 5}, "clientName"),
    ("name-too-long", {"clientName": "x" * 201}, "clientName"),
    # unknown fields: camelCase only, no read-only members
    ("unknown-field", {"foo": 1}, "foo"),
    ("snake-case-field", {"client_name": "x"}, "client_name"),
    ("read-only-secret", {"secret": "pfs_mine"}, "secret"),
]


@pytest.mark.parametrize(
    ("fields", "field"), [c[1:] for c in INVALID_FIELDS], ids=[c[0] for c in INVALID_FIELDS]
)
async def test_create_rejects_an_invalid_field(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    fields: dict[str, Any],
    field: str,
) -> None:
    body = {"clientId": unique(), **fields}
    before = await snapshot(ctx)
    response = await client.post(clients_url(tenant), json=body, headers=admin)
    assert_invalid(response, field)
    assert await snapshot(ctx) == before


async def test_unknown_field_message(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    response = await client.post(clients_url(tenant), json={"clientId": unique(), "foo": 1}, headers=admin)
    body = assert_invalid(response, "foo")
    assert body["errors"] == [{"field": "foo", "message": "unknown field"}]
    assert await snapshot(ctx) == before


async def test_create_without_client_id_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    response = await client.post(clients_url(tenant), json={"clientName": "nameless"}, headers=admin)
    assert_invalid(response, "clientId")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("payload", [b"[]", b'"app"', b"null"], ids=["array", "string", "null"])
async def test_create_with_a_body_that_is_not_an_object_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, payload: bytes
) -> None:
    before = await snapshot(ctx)
    response = await client.post(
        clients_url(tenant), content=payload, headers={**admin, "Content-Type": "application/json"}
    )
    assert_problem(response, 422, "validation-error")
    assert await snapshot(ctx) == before


async def test_create_with_malformed_json_is_400(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    response = await client.post(
        clients_url(tenant),
        content=b'{"clientId": "x",',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed-json")
    assert await snapshot(ctx) == before


# --- create: accepted edge cases -----------------------------------------------------------

ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    (
        "prefix-with-opt-in",
        {"redirectUris": ["https://app.example.com/cb*"], "allowRedirectUriPrefix": True},
    ),
    ("http-loopback-ipv4", {"redirectUris": ["http://127.0.0.1:8080/cb"]}),
    ("http-localhost", {"redirectUris": ["http://localhost/cb"]}),
    ("http-loopback-ipv6", {"redirectUris": ["http://[::1]:9000/cb"]}),
    ("native-app-scheme", {"redirectUris": ["com.example.app:/oauth2redirect"]}),
    ("native-app-scheme-with-host", {"redirectUris": ["com.example.app://callback/path"]}),
    ("native-app-post-logout", {"postLogoutRedirectUris": ["com.example.app:/signed-out"]}),
    ("back-channel-https", {"backChannelLogoutUri": "https://rp.example.com/logout"}),
    ("back-channel-loopback", {"backChannelLogoutUri": "http://127.0.0.1:9000/logout"}),
    ("password-with-ropc", {"allowedGrantTypes": ["password"], "allowRopc": True}),
    (
        "confidential-without-pkce",
        {
            "allowedGrantTypes": ["authorization_code"],
            "redirectUris": ["https://a.example.com/cb"],
            "allowNoPkce": True,
        },
    ),
    ("custom-scope", {"allowedScopes": ["openid", "invoices.read", "api://orders"]}),
    ("client-id-128", {"clientId": "a" * 128}),
    ("lifetime-max", {"accessTokenLifetime": MAX_ACCESS_LIFETIME, "refreshTokenLifetime": MAX_LIFETIME}),
    (
        "token-exchange",
        {"allowedGrantTypes": ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]},
    ),
]


@pytest.mark.parametrize("fields", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
async def test_create_accepts(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, fields: dict[str, Any]
) -> None:
    body = await create(client, admin, tenant, **fields)
    assert {k: body[k] for k in fields} == fields


async def test_tenants_admin_can_be_granted_in_the_system_tenant(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    client_id = unique("ops")
    body = await create(client, admin, "system", clientId=client_id, allowedScopes=["tenants:admin"])
    assert body["allowedScopes"] == ["tenants:admin"]
    deleted = await client.delete(client_url("system", client_id), headers=admin)
    assert deleted.status_code == 204


# --- create: rules between flags -----------------------------------------------------------

FLAG_RULES: list[tuple[str, dict[str, Any], str]] = [
    ("public-client-credentials", {"requireClientSecret": False}, "allowedGrantTypes"),
    (
        "public-client-credentials-and-code",
        {**PUBLIC_APP, "allowedGrantTypes": ["authorization_code", "client_credentials"]},
        "allowedGrantTypes",
    ),
    ("public-no-pkce", {**PUBLIC_APP, "allowNoPkce": True}, "allowNoPkce"),
    ("password-without-ropc", {"allowedGrantTypes": ["password"]}, "allowRopc"),
    ("ropc-without-password", {"allowRopc": True}, "allowRopc"),
    ("code-without-redirect", {"allowedGrantTypes": ["authorization_code"]}, "redirectUris"),
]


@pytest.mark.parametrize(("fields", "field"), [c[1:] for c in FLAG_RULES], ids=[c[0] for c in FLAG_RULES])
async def test_create_rejects_a_contradictory_combination(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    fields: dict[str, Any],
    field: str,
) -> None:
    before = await snapshot(ctx)
    response = await client.post(clients_url(tenant), json={"clientId": unique(), **fields}, headers=admin)
    assert_invalid(response, field)
    assert await snapshot(ctx) == before


# --- create: uniqueness --------------------------------------------------------------------


async def test_duplicate_client_id_in_a_tenant_is_409(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    first = await create(client, admin, tenant)
    before = await snapshot(ctx)
    response = await client.post(
        clients_url(tenant), json={"clientId": first["clientId"], "clientName": "second"}, headers=admin
    )
    body = assert_problem(response, 409, "conflict")
    assert first["clientId"] in body["detail"]
    assert await snapshot(ctx) == before
    fetched = await client.get(client_url(tenant, first["clientId"]), headers=admin)
    assert fetched.json() == without(first, "secret")


async def test_same_client_id_in_another_tenant_is_fine(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    other = await make_tenant(ctx)
    first = await create(client, admin, tenant)
    second = await create(client, admin, other, clientId=first["clientId"])
    assert second["id"] != first["id"]
    assert second["secret"]["value"] != first["secret"]["value"]
    one = await client.get(client_url(tenant, first["clientId"]), headers=admin)
    two = await client.get(client_url(other, first["clientId"]), headers=admin)
    assert (one.json()["id"], two.json()["id"]) == (first["id"], second["id"])


async def test_client_ids_are_case_sensitive(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    lower = await create(client, admin, tenant, clientId="case-app")
    upper = await create(client, admin, tenant, clientId="Case-App")
    assert lower["id"] != upper["id"]
    fetched = await client.get(client_url(tenant, "Case-App"), headers=admin)
    assert fetched.json()["id"] == upper["id"]


# --- read ----------------------------------------------------------------------------------


async def test_get_returns_the_client_without_secret(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    created = await create(client, admin, tenant, clientName="Reader", allowedScopes=["openid"])
    response = await client.get(client_url(tenant, created["clientId"]), headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert body == without(created, "secret")


async def test_get_unknown_client_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    response = await client.get(client_url(tenant, "no-such-client"), headers=admin)
    body = assert_problem(response, 404, "not-found")
    assert "no-such-client" in body["detail"]


async def test_get_in_an_unknown_tenant_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get(client_url("no-such-tenant", "app"), headers=admin)
    assert_problem(response, 404, "not-found")


async def test_a_client_of_another_tenant_is_not_found(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    other = await make_tenant(ctx)
    created = await create(client, admin, other)
    response = await client.get(client_url(tenant, created["clientId"]), headers=admin)
    assert_problem(response, 404, "not-found")


@pytest.mark.parametrize("client_id", ["a.b~c", "~", "...", "-_.~", "v1.0", "A" * 128])
async def test_every_allowed_client_id_is_addressable(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, client_id: str
) -> None:
    created = await create(client, admin, tenant, clientId=client_id)
    fetched = await client.get(client_url(tenant, client_id), headers=admin)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["id"] == created["id"]
    patched = await client.patch(client_url(tenant, client_id), json={"clientName": "n"}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["clientName"] == "n"
    deleted = await client.delete(client_url(tenant, client_id), headers=admin)
    assert deleted.status_code == 204
    gone = await client.get(client_url(tenant, client_id), headers=admin)
    assert_problem(gone, 404, "not-found")


# --- list ----------------------------------------------------------------------------------


async def test_list_walks_every_client_in_client_id_order(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    ids = ["m-app", "B-app", "a-app", "z~app", "0-app", "a.app", "Z-app", *BUILTIN_CLIENT_IDS]
    for client_id in ids[: -len(BUILTIN_CLIENT_IDS)]:
        await create(client, admin, tenant, clientId=client_id)

    seen: list[str] = []
    pages = 0
    params: dict[str, str] = {"limit": "2"}
    while True:
        response = await client.get(clients_url(tenant), params=params, headers=admin)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next"}
        assert 1 <= len(page["items"]) <= 2
        assert all(set(item) == PUBLIC_FIELDS for item in page["items"])
        seen += [item["clientId"] for item in page["items"]]
        pages += 1
        if page["next"] is None:
            break
        assert isinstance(page["next"], str)
        params = {"limit": "2", "cursor": page["next"]}
    assert seen == sorted(ids)  # the consoles' built-in clients are listed like any other
    assert pages == 5


async def test_list_with_a_page_that_fits_exactly_ends_with_null(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    for client_id in ("zz-one", "zz-two"):  # after the built-in "pforte-…" clients
        await create(client, admin, tenant, clientId=client_id)
    first = await client.get(clients_url(tenant), params={"limit": "3"}, headers=admin)
    second = await client.get(
        clients_url(tenant), params={"limit": "1", "cursor": first.json()["next"]}, headers=admin
    )
    assert [i["clientId"] for i in first.json()["items"]] == [*sorted(BUILTIN_CLIENT_IDS), "zz-one"]
    assert first.json()["next"] is not None
    assert [i["clientId"] for i in second.json()["items"]] == ["zz-two"]
    assert second.json()["next"] is None


async def test_list_of_a_new_tenant_holds_only_the_consoles_clients(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    response = await client.get(clients_url(tenant), headers=admin)
    assert response.status_code == 200
    assert [c["clientId"] for c in response.json()["items"]] == sorted(BUILTIN_CLIENT_IDS)
    assert response.json()["next"] is None


async def test_list_shows_only_the_tenants_own_clients(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    other = await make_tenant(ctx)
    mine = await create(client, admin, tenant)
    await create(client, admin, other)
    items = [i for i in await list_all(client, admin, tenant) if i["clientId"] not in BUILTIN_CLIENT_IDS]
    assert [i["id"] for i in items] == [mine["id"]]
    assert "secret" not in items[0]
    assert mine["secret"]["value"] not in repr(items)


@pytest.mark.parametrize("limit", ["0", "-1", "100000", "abc", "1.5"])
async def test_list_rejects_a_bad_limit(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, limit: str
) -> None:
    response = await client.get(clients_url(tenant), params={"limit": limit}, headers=admin)
    assert_invalid(response, "limit")


@pytest.mark.parametrize("cursor", ["not a cursor", "zzzz", "a", "!!!", "%%%"])
async def test_list_rejects_a_garbage_cursor(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, cursor: str
) -> None:
    await create(client, admin, tenant)
    response = await client.get(clients_url(tenant), params={"cursor": cursor}, headers=admin)
    assert_invalid(response, "cursor")


# --- trailing slashes and content types ----------------------------------------------------


async def test_trailing_slash_is_the_same_collection(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    created = await create(client, admin, tenant)
    plain = await client.get(clients_url(tenant), headers=admin)
    slash = await client.get(clients_url(tenant) + "/", headers=admin)
    assert slash.status_code == 200
    assert slash.json() == plain.json()
    one = await client.get(client_url(tenant, created["clientId"]) + "/", headers=admin)
    assert one.status_code == 200
    assert one.json()["id"] == created["id"]


async def test_post_with_trailing_slash_creates_without_redirect(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    client_id = unique()
    response = await client.post(
        clients_url(tenant) + "/", json={"clientId": client_id}, headers=admin, follow_redirects=False
    )
    assert response.status_code == 201, response.text
    assert "location" not in response.headers
    assert response.json()["clientId"] == client_id
    fetched = await client.get(client_url(tenant, client_id), headers=admin)
    assert fetched.status_code == 200


@pytest.mark.parametrize(
    "content_type",
    ["application/json-patch+json", "application/merge-patch+json", "application/json; charset=utf-8"],
)
async def test_any_json_media_type_is_accepted(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, content_type: str
) -> None:
    client_id = unique()
    response = await client.post(
        clients_url(tenant),
        content=f'{{"clientId": "{client_id}"}}'.encode(),
        headers={**admin, "Content-Type": content_type},
    )
    assert response.status_code == 201, response.text
    assert response.json()["clientId"] == client_id


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_json_is_415(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, content_type: str | None
) -> None:
    headers = dict(admin)
    if content_type is not None:
        headers["Content-Type"] = content_type
    before = await snapshot(ctx)
    response = await client.post(
        clients_url(tenant), content=f'{{"clientId": "{unique()}"}}'.encode(), headers=headers
    )
    assert_problem(response, 415, "unsupported-media-type")
    assert await snapshot(ctx) == before


async def test_patch_with_text_plain_is_415(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    created = await create(client, admin, tenant)
    before = await snapshot(ctx)
    response = await client.patch(
        client_url(tenant, created["clientId"]),
        content=b'{"enabled": false}',
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert_problem(response, 415, "unsupported-media-type")
    assert await snapshot(ctx) == before


async def test_put_on_the_collection_is_405(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    response = await client.put(clients_url(tenant), json={"clientId": unique()}, headers=admin)
    assert_problem(response, 405, "method-not-allowed")
    assert await snapshot(ctx) == before


# --- PUT: replace --------------------------------------------------------------------------


async def test_put_returns_every_field_not_sent_to_its_default(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, ctx: Context
) -> None:
    await role_service.create_role(ctx, SYSTEM_PRINCIPAL, tenant, name="r", description=None, permissions=[])
    created = await create(
        client,
        admin,
        tenant,
        clientName="Old",
        description="old",
        owner="someone",
        enabled=False,
        allowedGrantTypes=["authorization_code", "refresh_token"],
        allowedScopes=["openid", "clients:read"],
        redirectUris=["https://app.example.com/cb"],
        allowOfflineAccess=True,
        restrictToRole="r",
        accessTokenLifetime=60,
    )
    url = client_url(tenant, created["clientId"])
    response = await client.put(url, json={"clientName": "New"}, headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert {k: body[k] for k in DEFAULTS} == {**DEFAULTS, "clientName": "New"}
    assert (body["id"], body["clientId"], body["createdAt"]) == (
        created["id"],
        created["clientId"],
        created["createdAt"],
    )
    fetched = await client.get(url, headers=admin)
    assert fetched.json() == body


async def test_put_with_the_same_client_id_in_the_body_is_fine(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    created = await create(client, admin, tenant)
    response = await client.put(
        client_url(tenant, created["clientId"]),
        json={"clientId": created["clientId"], "owner": "me"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["owner"] == "me"


async def test_put_with_another_client_id_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    created = await create(client, admin, tenant)
    before = await snapshot(ctx)
    response = await client.put(
        client_url(tenant, created["clientId"]), json={"clientId": unique("renamed")}, headers=admin
    )
    assert_invalid(response, "clientId")
    assert await snapshot(ctx) == before


async def test_put_that_breaks_a_rule_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    created = await create(client, admin, tenant)
    before = await snapshot(ctx)
    response = await client.put(
        client_url(tenant, created["clientId"]),
        json={"allowedGrantTypes": ["authorization_code"]},
        headers=admin,
    )
    assert_invalid(response, "redirectUris")
    assert await snapshot(ctx) == before


async def test_put_unknown_client_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    response = await client.put(client_url(tenant, "no-such-client"), json={}, headers=admin)
    assert_problem(response, 404, "not-found")
    assert await snapshot(ctx) == before


# --- PATCH: merge patch --------------------------------------------------------------------


async def test_patch_changes_only_the_fields_given(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    created = await create(
        client,
        admin,
        tenant,
        clientName="Keep",
        description="keep me",
        allowedScopes=["openid"],
        accessTokenLifetime=600,
    )
    url = client_url(tenant, created["clientId"])
    response = await client.patch(
        url, json={"enabled": False, "allowedScopes": ["openid", "profile"]}, headers=admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = {
        **without(created, "secret", "updatedAt"),
        "enabled": False,
        "allowedScopes": ["openid", "profile"],
    }
    assert without(body, "updatedAt") == expected
    fetched = await client.get(url, headers=admin)
    assert fetched.json() == body


async def test_patch_with_null_clears_a_nullable_field(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    created = await create(client, admin, tenant, clientName="Named", owner="o")
    response = await client.patch(
        client_url(tenant, created["clientId"]), json={"clientName": None}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["clientName"] is None
    assert response.json()["owner"] == "o"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"enabled": None}, "enabled"),
        ({"allowedScopes": None}, "allowedScopes"),
        ({"accessTokenLifetime": None}, "accessTokenLifetime"),
        ({"enabled": "no"}, "enabled"),
        ({"accessTokenLifetime": 0}, "accessTokenLifetime"),
        ({"bar": True}, "bar"),
        ({"clientId": "renamed"}, "clientId"),
        ({"redirectUris": ["javascript:alert(1)"]}, "redirectUris[0]"),
        ({"postLogoutRedirectUris": ["data:,x"]}, "postLogoutRedirectUris[0]"),
        ({"backChannelLogoutUri": "com.example.app:/logout"}, "backChannelLogoutUri"),
    ],
    ids=[
        "enabled-null",
        "scopes-null",
        "lifetime-null",
        "enabled-string",
        "lifetime-zero",
        "unknown",
        "rename",
        "redirect-javascript",
        "post-logout-data",
        "back-channel-private-scheme",
    ],
)
async def test_patch_rejects_an_invalid_value(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    patch: dict[str, Any],
    field: str,
) -> None:
    created = await create(client, admin, tenant)
    before = await snapshot(ctx)
    response = await client.patch(client_url(tenant, created["clientId"]), json=patch, headers=admin)
    assert_invalid(response, field)
    assert await snapshot(ctx) == before


@pytest.mark.parametrize(
    ("start", "patch", "field"),
    [
        ({}, {"requireClientSecret": False}, "allowedGrantTypes"),
        (PUBLIC_APP, {"allowNoPkce": True}, "allowNoPkce"),
        (PUBLIC_APP, {"redirectUris": []}, "redirectUris"),
        ({}, {"allowedGrantTypes": ["password"]}, "allowRopc"),
        (
            {"allowedGrantTypes": ["password"], "allowRopc": True},
            {"allowedGrantTypes": ["client_credentials"]},
            "allowRopc",
        ),
        (
            {"redirectUris": ["https://app.example.com/cb*"], "allowRedirectUriPrefix": True},
            {"allowRedirectUriPrefix": False},
            "redirectUris[0]",
        ),
    ],
    ids=[
        "public-cc",
        "public-no-pkce",
        "code-no-redirect",
        "password-no-ropc",
        "ropc-no-password",
        "prefix-opt-out",
    ],
)
async def test_patch_to_an_invalid_combination_changes_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    start: dict[str, Any],
    patch: dict[str, Any],
    field: str,
) -> None:
    created = await create(client, admin, tenant, **start)
    before = await snapshot(ctx)
    response = await client.patch(client_url(tenant, created["clientId"]), json=patch, headers=admin)
    assert_invalid(response, field)
    assert await snapshot(ctx) == before


async def test_patch_unknown_client_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    response = await client.patch(
        client_url(tenant, "no-such-client"), json={"enabled": False}, headers=admin
    )
    assert_problem(response, 404, "not-found")
    assert await snapshot(ctx) == before


async def test_update_moves_updated_at_but_not_created_at(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    created = await create(client, admin, tenant)
    url = client_url(tenant, created["clientId"])
    patched = (await client.patch(url, json={"description": "changed"}, headers=admin)).json()
    assert patched["createdAt"] == created["createdAt"]
    assert moment(patched["updatedAt"]) > moment(created["updatedAt"])
    put = (await client.put(url, json={"description": "again"}, headers=admin)).json()
    assert put["createdAt"] == created["createdAt"]
    assert moment(put["updatedAt"]) > moment(patched["updatedAt"])


async def test_patch_that_changes_nothing_keeps_updated_at_and_records_no_event(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    created = await create(client, admin, tenant, clientName="Same")
    response = await client.patch(
        client_url(tenant, created["clientId"]), json={"clientName": "Same"}, headers=admin
    )
    assert response.status_code == 200
    assert response.json()["updatedAt"] == created["updatedAt"]
    assert await audit_events(ctx, "client.updated", created["clientId"]) == []


async def test_disabling_a_client_stops_its_api_keys(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    holder = unique("holder")
    key = await make_key(ctx, tenant, ["clients:read"], client_id=holder)
    assert (await client.get(clients_url(tenant), headers=bearer(key))).status_code == 200
    patched = await client.patch(client_url(tenant, holder), json={"enabled": False}, headers=admin)
    assert patched.status_code == 200
    response = await client.get(clients_url(tenant), headers=bearer(key))
    assert_problem(response, 401, "unauthorized")


# --- DELETE --------------------------------------------------------------------------------


async def test_delete_removes_the_client_its_secrets_and_api_keys(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    holder = unique("holder")
    key = await make_key(ctx, tenant, ["clients:read"], client_id=holder)
    url = client_url(tenant, holder)
    created = (await client.get(url, headers=admin)).json()
    extra = await client.post(f"{url}/secrets", json={}, headers=admin)
    assert extra.status_code == 201
    assert await count_of(ctx, ClientSecretRow, created["id"]) == 2
    assert await count_of(ctx, ApiKeyRow, created["id"]) == 1

    response = await client.delete(url, headers=admin)
    assert response.status_code == 204
    assert response.content == b""

    assert_problem(await client.get(url, headers=admin), 404, "not-found")
    assert_problem(await client.get(f"{url}/secrets", headers=admin), 404, "not-found")
    assert await count_of(ctx, ClientSecretRow, created["id"]) == 0
    assert await count_of(ctx, ApiKeyRow, created["id"]) == 0
    assert_problem(await client.get(clients_url(tenant), headers=bearer(key)), 401, "unauthorized")
    assert holder not in [i["clientId"] for i in await list_all(client, admin, tenant)]


async def test_delete_unknown_client_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    created = await create(client, admin, tenant)
    url = client_url(tenant, created["clientId"])
    assert (await client.delete(url, headers=admin)).status_code == 204
    before = await snapshot(ctx)
    assert_problem(await client.delete(url, headers=admin), 404, "not-found")
    assert_problem(await client.delete(client_url(tenant, "never-was"), headers=admin), 404, "not-found")
    assert await snapshot(ctx) == before


async def test_a_deleted_client_id_can_be_created_again(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    first = await create(client, admin, tenant)
    assert (await client.delete(client_url(tenant, first["clientId"]), headers=admin)).status_code == 204
    second = await create(client, admin, tenant, clientId=first["clientId"])
    assert second["id"] != first["id"]
    listed = await client.get(f"{client_url(tenant, first['clientId'])}/secrets", headers=admin)
    assert [s["id"] for s in listed.json()["items"]] == [second["secret"]["id"]]


# --- audit ---------------------------------------------------------------------------------


async def test_create_is_audited_without_the_secret(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    headers, actor = await key_holder(client, admin, ctx, tenant, READ_WRITE)
    created = await create(client, headers, tenant, clientName="Audited", allowedScopes=["clients:read"])
    [event] = await audit_events(ctx, "client.created", created["clientId"])
    assert event.actor == actor
    assert event.actor_tenant == tenant
    assert event.target_type == "client"
    assert event.target_id == created["clientId"]
    assert event.changes["clientId"] == created["clientId"]
    assert event.changes["clientName"] == "Audited"
    assert event.changes["allowedScopes"] == ["clients:read"]
    rows = await snapshot(ctx)
    assert created["secret"]["value"] not in repr(rows["audit_events"])
    assert created["secret"]["value"] not in repr(rows)


async def test_update_is_audited_with_the_changed_fields(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    headers, actor = await key_holder(client, admin, ctx, tenant, READ_WRITE)
    created = await create(client, headers, tenant)
    response = await client.patch(
        client_url(tenant, created["clientId"]),
        json={"accessTokenLifetime": 600, "allowOfflineAccess": True, "clientName": None},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    [event] = await audit_events(ctx, "client.updated", created["clientId"])
    assert event.actor == actor
    assert event.target_id == created["clientId"]
    assert event.changes == {
        "accessTokenLifetime": {"from": 300, "to": 600},
        "allowOfflineAccess": {"from": False, "to": True},
    }

    put = await client.put(
        client_url(tenant, created["clientId"]), json={"allowedScopes": ["openid"]}, headers=headers
    )
    assert put.status_code == 200, put.text
    events = await audit_events(ctx, "client.updated", created["clientId"])
    assert len(events) == 2
    [second] = [e for e in events if e.id != event.id]
    assert second.changes == {
        "allowedScopes": {"from": [], "to": ["openid"]},
        "accessTokenLifetime": {"from": 600, "to": 300},
        "allowOfflineAccess": {"from": True, "to": False},
    }


async def test_delete_is_audited(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    headers, actor = await key_holder(client, admin, ctx, tenant, READ_WRITE)
    created = await create(client, headers, tenant)
    assert (await client.delete(client_url(tenant, created["clientId"]), headers=headers)).status_code == 204
    [event] = await audit_events(ctx, "client.deleted", created["clientId"])
    assert event.actor == actor
    assert event.actor_tenant == tenant
    assert event.target_type == "client"
    assert event.target_id == created["clientId"]
    rows = await snapshot(ctx)
    assert created["secret"]["value"] not in repr(rows)


# --- authorisation -------------------------------------------------------------------------


async def test_without_a_credential_is_401(client: httpx.AsyncClient, ctx: Context, tenant: str) -> None:
    before = await snapshot(ctx)
    response = await client.post(clients_url(tenant), json={"clientId": unique()})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await snapshot(ctx) == before


async def test_read_only_key_can_read_but_not_write(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    existing = await create(client, admin, tenant)
    key = bearer(await make_key(ctx, tenant, ["clients:read"]))
    url = client_url(tenant, existing["clientId"])

    before = await snapshot(ctx)
    assert_problem(
        await client.post(clients_url(tenant), json={"clientId": unique()}, headers=key), 403, "forbidden"
    )
    assert_problem(await client.patch(url, json={"enabled": False}, headers=key), 403, "forbidden")
    assert_problem(await client.put(url, json={}, headers=key), 403, "forbidden")
    assert_problem(await client.delete(url, headers=key), 403, "forbidden")
    assert await snapshot(ctx) == before

    listed = await client.get(clients_url(tenant), headers=key)
    assert listed.status_code == 200
    assert existing["clientId"] in [i["clientId"] for i in listed.json()["items"]]
    assert (await client.get(url, headers=key)).status_code == 200


async def test_a_key_of_another_tenant_is_403(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    other = await make_tenant(ctx)
    existing = await create(client, admin, tenant)
    key = bearer(await make_key(ctx, other, READ_WRITE))
    before = await snapshot(ctx)
    assert_problem(await client.get(clients_url(tenant), headers=key), 403, "forbidden")
    assert_problem(await client.get(client_url(tenant, existing["clientId"]), headers=key), 403, "forbidden")
    assert_problem(
        await client.post(clients_url(tenant), json={"clientId": unique()}, headers=key), 403, "forbidden"
    )
    assert_problem(
        await client.delete(client_url(tenant, existing["clientId"]), headers=key), 403, "forbidden"
    )
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("permission", ["users:write", "events:read", "clients.roles:read"])
async def test_write_key_cannot_grant_a_permission_it_lacks(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, permission: str
) -> None:
    key = bearer(await make_key(ctx, tenant, READ_WRITE))
    before = await snapshot(ctx)
    response = await client.post(
        clients_url(tenant), json={"clientId": unique(), "allowedScopes": ["openid", permission]}, headers=key
    )
    body = assert_problem(response, 403, "forbidden")
    assert permission in body["detail"]
    assert await snapshot(ctx) == before


async def test_write_key_can_grant_a_permission_it_holds(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    key = bearer(await make_key(ctx, tenant, READ_WRITE))
    created = await create(client, key, tenant, allowedScopes=["clients:read", "openid", "custom.scope"])
    assert created["allowedScopes"] == ["clients:read", "openid", "custom.scope"]
    assert created["secret"]["value"].startswith("pfs_")


async def test_write_key_cannot_patch_in_a_permission_it_lacks(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    key = bearer(await make_key(ctx, tenant, READ_WRITE))
    created = await create(client, key, tenant)
    before = await snapshot(ctx)
    response = await client.patch(
        client_url(tenant, created["clientId"]), json={"allowedScopes": ["users:write"]}, headers=key
    )
    assert_problem(response, 403, "forbidden")
    response = await client.put(
        client_url(tenant, created["clientId"]), json={"allowedScopes": ["users:write"]}, headers=key
    )
    assert_problem(response, 403, "forbidden")
    assert await snapshot(ctx) == before


async def test_write_key_cannot_delete_a_client_holding_more_but_may_narrow_it(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    """Deleting a client takes what it holds with it: only a principal holding as much may.
    A change is judged by what it adds: taking a permission away grants nothing."""
    stronger = await create(client, admin, tenant, allowedScopes=["users:write"])
    key = bearer(await make_key(ctx, tenant, READ_WRITE))
    url = client_url(tenant, stronger["clientId"])
    before = await snapshot(ctx)
    assert_problem(await client.delete(url, headers=key), 403, "forbidden")
    assert await snapshot(ctx) == before
    narrowed = await client.patch(url, json={"allowedScopes": []}, headers=key)
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["allowedScopes"] == []
