"""Hostile text on the admin API (CONVENTIONS.md §4: validate text at the edge).

PostgreSQL refuses NUL in text, SQLite stores it: the same request must get the same answer on
both, before any query, and leave the database as it was.

- A path parameter no tenant or client can have (``bad%00in``, ``bc%00``) is 404 problem+json.
- A JSON string with a C0 control character or DEL is 422 problem+json naming the field
  (``clientName``, ``redirectUris[0]``); free-text descriptions may hold TAB, LF and CR.
- The OpenAPI document declares the patterns it enforces.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from pforte.domain.ids import CLIENT_ID_PATTERN
from pforte.domain.text import FREE_TEXT_PATTERN, LINE_PATTERN
from pforte.services.context import Context
from tests.conftest import assert_problem, snapshot

pytestmark = pytest.mark.anyio

BASE = "/api/admin/v1/tenants"
LINE_MESSAGE = "must not contain control characters (U+0000-U+001F, U+007F)"
FREE_TEXT_MESSAGE = "must not contain control characters other than TAB, LF and CR"
CONTROLS = ["\x00", "\t", "\x1b", "\x7f"]
CONTROL_IDS = ["nul", "tab", "esc", "del"]
# Refused in free text too: every C0 control but TAB, LF and CR, and DEL.
FREE_TEXT_REFUSED = ["\x00", "\x01", "\x0b", "\x0c", "\x1b", "\x7f"]


def unique(prefix: str = "app") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def assert_refused(response: httpx.Response, field: str, message: str = LINE_MESSAGE) -> None:
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"] == [{"field": field, "message": message}], body
    assert body["detail"] == f"{field}: {message}"


async def make_client(http: httpx.AsyncClient, admin: dict[str, str], tenant: str, **fields: Any) -> str:
    client_id = unique()
    response = await http.post(
        f"{BASE}/{tenant}/clients", json={"clientId": client_id, **fields}, headers=admin
    )
    assert response.status_code == 201, response.text
    return client_id


# --- path parameters -------------------------------------------------------------------------

HOSTILE_TENANTS = ["bad%00in", "system%00", "system%7F", "%09system"]
HOSTILE_CLIENT_IDS = ["bc%00", "%00", "svc%7F", "svc%0D%0A"]


@pytest.mark.parametrize("tenant_ref", HOSTILE_TENANTS)
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"displayName": "x"}),
        ("DELETE", "", None),
        ("GET", "/clients", None),
        ("POST", "/clients", {"clientId": "app"}),
        ("GET", "/clients/app", None),
        ("GET", "/keys", None),
        ("GET", "/permissions", None),
    ],
    ids=["get", "patch", "delete", "list-clients", "create-client", "get-client", "keys", "permissions"],
)
async def test_an_impossible_tenant_in_the_path_is_404(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant_ref: str,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    before = await snapshot(ctx)
    response = await client.request(method, f"{BASE}/{tenant_ref}{suffix}", json=body, headers=admin)
    assert_problem(response, 404, "not-found")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("client_ref", HOSTILE_CLIENT_IDS)
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PUT", "", {}),
        ("PATCH", "", {"clientName": "x"}),
        ("DELETE", "", None),
        ("GET", "/secrets", None),
        ("POST", "/secrets", {}),
        ("DELETE", f"/secrets/{uuid.uuid4()}", None),
        ("GET", "/api-keys", None),
        ("POST", "/api-keys", {"name": "k", "scopes": []}),
        ("DELETE", f"/api-keys/{uuid.uuid4()}", None),
        ("GET", "/guide", None),
    ],
    ids=[
        "get",
        "put",
        "patch",
        "delete",
        "list-secrets",
        "create-secret",
        "revoke-secret",
        "list-keys",
        "create-key",
        "revoke-key",
        "guide",
    ],
)
async def test_an_impossible_client_id_in_the_path_is_404(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    client_ref: str,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    before = await snapshot(ctx)
    url = f"{BASE}/system/clients/{client_ref}{suffix}"
    response = await client.request(method, url, json=body, headers=admin)
    assert_problem(response, 404, "not-found")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("secret_ref", ["%00", "abc%00", str(uuid.uuid4()) + "%00"])
async def test_an_impossible_secret_or_key_id_in_the_path_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, secret_ref: str
) -> None:
    client_id = await make_client(client, admin, tenant)
    before = await snapshot(ctx)
    for kind in ("secrets", "api-keys"):
        response = await client.delete(
            f"{BASE}/{tenant}/clients/{client_id}/{kind}/{secret_ref}", headers=admin
        )
        assert_problem(response, 404, "not-found")
    assert await snapshot(ctx) == before


async def test_a_tenant_is_still_addressed_by_its_id(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    tenant_id = (await client.get(f"{BASE}/{tenant}", headers=admin)).json()["id"]
    for ref in (tenant_id, tenant_id.upper()):
        response = await client.get(f"{BASE}/{ref}", headers=admin)
        assert response.status_code == 200, response.text
        assert response.json()["slug"] == tenant


async def test_an_unauthenticated_request_with_an_impossible_path_is_401(
    client: httpx.AsyncClient, ctx: Context
) -> None:
    """Authentication comes first: the path says nothing to a caller without credentials."""
    before = await snapshot(ctx)
    response = await client.get(f"{BASE}/bad%00in/clients/bc%00")
    assert_problem(response, 401, "unauthorized")
    assert await snapshot(ctx) == before


# --- JSON bodies -----------------------------------------------------------------------------

CLIENT_LINE_FIELDS: list[tuple[str, dict[str, Any], str]] = [
    ("client-id", {"clientId": "app{c}"}, "clientId"),
    ("client-name", {"clientName": "Billing{c}"}, "clientName"),
    ("owner", {"owner": "team{c}"}, "owner"),
    ("grant-type", {"allowedGrantTypes": ["client_credentials{c}"]}, "allowedGrantTypes[0]"),
    ("scope", {"allowedScopes": ["clients:read", "reports{c}"]}, "allowedScopes[1]"),
    ("redirect-uri", {"redirectUris": ["https://app.example.com/cb{c}"]}, "redirectUris[0]"),
    (
        "redirect-uri-second",
        {"redirectUris": ["https://app.example.com/cb", "https://app.example.com/{c}"]},
        "redirectUris[1]",
    ),
    (
        "post-logout",
        {"postLogoutRedirectUris": ["https://app.example.com/{c}bye"]},
        "postLogoutRedirectUris[0]",
    ),
    ("cors-origin", {"allowedCorsOrigins": ["https://app.example.com{c}"]}, "allowedCorsOrigins[0]"),
    ("back-channel", {"backChannelLogoutUri": "https://app.example.com/logout{c}"}, "backChannelLogoutUri"),
    ("restrict-to-role", {"restrictToRole": "staff{c}"}, "restrictToRole"),
]


def with_control(fields: dict[str, Any], control: str) -> dict[str, Any]:
    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("{c}", control)
        return [fill(v) for v in value]

    return {k: fill(v) for k, v in fields.items()}


@pytest.mark.parametrize("control", CONTROLS, ids=CONTROL_IDS)
@pytest.mark.parametrize(
    ("fields", "field"), [c[1:] for c in CLIENT_LINE_FIELDS], ids=[c[0] for c in CLIENT_LINE_FIELDS]
)
async def test_a_control_character_in_a_client_field_is_422_on_create(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    fields: dict[str, Any],
    field: str,
    control: str,
) -> None:
    body = {"clientId": unique(), **with_control(fields, control)}
    before = await snapshot(ctx)
    response = await client.post(f"{BASE}/{tenant}/clients", json=body, headers=admin)
    assert_refused(response, field)
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(
    ("fields", "field"), [c[1:] for c in CLIENT_LINE_FIELDS], ids=[c[0] for c in CLIENT_LINE_FIELDS]
)
async def test_a_nul_in_a_client_field_is_422_on_update(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    fields: dict[str, Any],
    field: str,
    method: str,
) -> None:
    client_id = await make_client(client, admin, tenant)
    before = await snapshot(ctx)
    url = f"{BASE}/{tenant}/clients/{client_id}"
    response = await client.request(method, url, json=with_control(fields, "\x00"), headers=admin)
    assert_refused(response, field)
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("control", FREE_TEXT_REFUSED)
async def test_a_control_character_in_a_client_description_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, control: str
) -> None:
    before = await snapshot(ctx)
    body = {"clientId": unique(), "description": f"line one{control}line two"}
    response = await client.post(f"{BASE}/{tenant}/clients", json=body, headers=admin)
    assert_refused(response, "description", FREE_TEXT_MESSAGE)
    assert await snapshot(ctx) == before


async def test_a_client_description_keeps_tab_lf_and_cr(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    """The same on both databases: stored and read back as sent."""
    description = "Billing\tservice\r\nsecond line\n"
    body = {"clientId": unique(), "description": description}
    response = await client.post(f"{BASE}/{tenant}/clients", json=body, headers=admin)
    assert response.status_code == 201, response.text
    read = await client.get(f"{BASE}/{tenant}/clients/{body['clientId']}", headers=admin)
    assert read.json()["description"] == description


@pytest.mark.parametrize("control", ["\x00", "\x1f", "\x7f", "\t"])
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "", {"slug": "acme{c}"}, "slug"),
        ("POST", "", {"slug": "acme-x", "displayName": "Acme{c}"}, "displayName"),
        ("POST", "", {"slug": "acme-y", "signingAlg": "ES256{c}"}, "signingAlg"),
        ("PATCH", "/system", {"displayName": "System{c}"}, "displayName"),
    ],
    ids=["slug", "display-name", "signing-alg", "patch-display-name"],
)
async def test_a_control_character_in_a_tenant_field_is_422(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
    control: str,
) -> None:
    before = await snapshot(ctx)
    response = await client.request(method, f"{BASE}{path}", json=with_control(body, control), headers=admin)
    assert_refused(response, field)
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("control", FREE_TEXT_REFUSED)
async def test_a_control_character_in_a_secret_description_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, control: str
) -> None:
    client_id = await make_client(client, admin, tenant)
    before = await snapshot(ctx)
    url = f"{BASE}/{tenant}/clients/{client_id}/secrets"
    response = await client.post(url, json={"description": f"rotation{control}2025"}, headers=admin)
    assert_refused(response, "description", FREE_TEXT_MESSAGE)
    assert await snapshot(ctx) == before


async def test_a_secret_description_keeps_tab_lf_and_cr(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    client_id = await make_client(client, admin, tenant)
    url = f"{BASE}/{tenant}/clients/{client_id}/secrets"
    response = await client.post(url, json={"description": "rotation\t2025\r\nby ops"}, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["description"] == "rotation\t2025\r\nby ops"


@pytest.mark.parametrize("control", ["\x00", "\t", "\n", "\x7f"])
@pytest.mark.parametrize(
    ("body", "field"),
    [({"name": "ci{c}", "scopes": []}, "name"), ({"name": "ci", "scopes": ["clients:read{c}"]}, "scopes[0]")],
    ids=["name", "scope"],
)
async def test_a_control_character_in_an_api_key_field_is_422(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    body: dict[str, Any],
    field: str,
    control: str,
) -> None:
    client_id = await make_client(client, admin, tenant, allowedScopes=["clients:read"])
    before = await snapshot(ctx)
    url = f"{BASE}/{tenant}/clients/{client_id}/api-keys"
    response = await client.post(url, json=with_control(body, control), headers=admin)
    assert_refused(response, field)
    assert await snapshot(ctx) == before


async def test_unicode_text_is_not_a_control_character(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    """Only C0 and DEL are refused: names in any script are fine (U+0080 and up)."""
    name = "Abrechnung – Prüfung ✓ \u0085\u00a0"
    response = await client.post(
        f"{BASE}/{tenant}/clients", json={"clientId": unique(), "clientName": name}, headers=admin
    )
    assert response.status_code == 201, response.text
    assert response.json()["clientName"] == name


# --- the OpenAPI document --------------------------------------------------------------------


async def test_the_openapi_document_declares_the_text_patterns(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/admin/v1/openapi.json")).json()
    schemas = document["components"]["schemas"]

    def pattern_of(model: str, field: str) -> str:
        schema = schemas[model]["properties"][field]
        for option in schema.get("anyOf", [schema]):
            if option.get("type") == "array":
                option = option["items"]
            if "pattern" in option:
                return str(option["pattern"])
        raise AssertionError(f"{model}.{field} declares no pattern: {schema}")

    assert pattern_of("ClientCreate", "clientId") == CLIENT_ID_PATTERN  # which holds no control character
    assert pattern_of("ClientCreate", "clientName") == LINE_PATTERN
    assert pattern_of("ClientCreate", "redirectUris") == LINE_PATTERN
    assert pattern_of("ClientCreate", "description") == FREE_TEXT_PATTERN
    assert pattern_of("ClientUpdate", "backChannelLogoutUri") == LINE_PATTERN
    assert pattern_of("TenantCreate", "displayName") == LINE_PATTERN
    assert pattern_of("SecretCreate", "description") == FREE_TEXT_PATTERN
    assert pattern_of("ApiKeyCreate", "name") == LINE_PATTERN
    assert pattern_of("ApiKeyCreate", "scopes") == LINE_PATTERN


# --- query parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("cursor", ["AA", "fw", "YQBi", "CQ"], ids=["nul", "del", "inner-nul", "tab"])
@pytest.mark.parametrize("collection", ["", "/system/clients"], ids=["tenants", "clients"])
async def test_a_cursor_that_decodes_to_a_control_character_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, collection: str, cursor: str
) -> None:
    """Well-formed base64 of a key no row can have (``AA`` is NUL): not a cursor this server
    issued, refused before the keyset query."""
    before = await snapshot(ctx)
    response = await client.get(f"{BASE}{collection}", params={"cursor": cursor}, headers=admin)
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"] == [{"field": "cursor", "message": "is not a cursor this server issued"}]
    assert await snapshot(ctx) == before
