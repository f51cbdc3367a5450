"""Client secrets and API keys through the admin API (DESIGN.md §4, §5).

A value appears once, in the response that creates it; it is stored only as a keyed hash,
never listed, never audited. Secret windows lie between one day and three years after
``startTime`` and end in the future; a client has at most ten live secrets.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from pforte.domain import credentials as cred
from pforte.services.bootstrap import ADMIN_CLIENT_ID
from pforte.services.context import Context
from pforte.store.tables import ApiKeyRow, ClientSecretRow
from tests.conftest import assert_problem, audit_events, bearer, make_key, moment, snapshot

pytestmark = pytest.mark.anyio
BASE = "/api/admin/v1/tenants"
SECRET_RE = re.compile(r"pfs_[0-9A-Za-z]{49}")
KEY_RE = re.compile(r"pfk_[0-9A-Za-z]{49}")
SECRET_FIELDS = {
    *("id", "description", "startTime", "expiration", "valueDisplay", "createdAt", "createdBy", "lastUsedAt"),
    "newest",
}
KEY_FIELDS = {"id", "name", "valueDisplay", "scopes", "expiration", "createdAt", "createdBy", "lastUsedAt"}


def secrets_url(tenant: str, client_id: str) -> str:
    return f"{BASE}/{tenant}/clients/{client_id}/secrets"


def keys_url(tenant: str, client_id: str) -> str:
    return f"{BASE}/{tenant}/clients/{client_id}/api-keys"


def whole_seconds(offset: timedelta) -> datetime:
    return (datetime.now(UTC) + offset).replace(microsecond=0)


async def new_client(
    http: httpx.AsyncClient, headers: dict[str, str], tenant: str, **fields: Any
) -> dict[str, Any]:
    body = {"clientId": f"app-{uuid.uuid4().hex[:8]}", **fields}
    response = await http.post(f"{BASE}/{tenant}/clients", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def key_label(ctx: Context, key: str) -> str:
    """How audit events (and ``createdBy``) name the caller using the API key ``key``."""
    async with ctx.db.transaction() as session:
        key_id = await session.scalar(
            select(ApiKeyRow.id).where(ApiKeyRow.value_hash == ctx.hasher.hash(key))
        )
    assert key_id is not None
    return f"api_key:{key_id}"


async def list_all(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await http.get(url, params={"limit": "200"}, headers=headers)
    assert response.status_code == 200
    assert response.json()["next"] is None
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- creating a secret ---------------------------------------------------------------------


@pytest.mark.parametrize("send", ["empty-object", "no-body"])
async def test_create_secret_returns_the_value_once_with_defaults(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, send: str
) -> None:
    app = await new_client(client, admin, tenant)
    url = secrets_url(tenant, app["clientId"])
    before = datetime.now(UTC)
    if send == "no-body":
        response = await client.post(url, headers=admin)
    else:
        response = await client.post(url, json={}, headers=admin)
    after = datetime.now(UTC)

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == SECRET_FIELDS | {"value"}
    value = body["value"]
    assert SECRET_RE.fullmatch(value)
    assert cred.is_well_formed(value, cred.Kind.CLIENT_SECRET)
    assert body["valueDisplay"] == value[:7] + "…"
    assert body["description"] is None
    assert body["lastUsedAt"] is None
    assert uuid.UUID(body["id"]).version == 7
    created, start, expiration = (
        moment(body["createdAt"]),
        moment(body["startTime"]),
        moment(body["expiration"]),
    )
    assert before <= created <= after
    assert start == created
    # Six calendar months after creation (not 180 days).
    assert cred.add_months(before, 6) <= expiration <= cred.add_months(after, 6)

    listed = await client.get(url, headers=admin)
    assert listed.status_code == 200
    assert value not in listed.text
    items = listed.json()["items"]
    assert all("value" not in item for item in items)
    assert all(set(item) == SECRET_FIELDS for item in items)
    mine = [item for item in items if item["id"] == body["id"]]
    assert mine == [{k: v for k, v in body.items() if k != "value"}]

    rows = await snapshot(ctx)
    assert value not in repr(rows)
    assert value[4:] not in repr(rows)
    stored = [r for r in rows["client_secrets"] if str(r[0]) == body["id"] or r[0] == uuid.UUID(body["id"])]
    assert len(stored) == 1
    assert ctx.hasher.hash(value) in stored[0]

    events = await audit_events(ctx, "client_secret.created", body["id"])
    assert len(events) == 1
    event = events[0]
    assert event.changes["valueDisplay"] == body["valueDisplay"]
    assert event.changes["clientId"] == app["clientId"]
    assert value not in repr(event.changes)
    assert event.actor.startswith("api_key:")
    assert event.actor_tenant == "system"
    assert body["createdBy"] == event.actor


async def test_create_secret_keeps_the_description(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    app = await new_client(client, admin, tenant)
    response = await client.post(
        secrets_url(tenant, app["clientId"]), json={"description": "rotation 2027"}, headers=admin
    )
    assert response.status_code == 201
    assert response.json()["description"] == "rotation 2027"


async def test_secret_values_differ(client: httpx.AsyncClient, admin: dict[str, str], tenant: str) -> None:
    app = await new_client(client, admin, tenant)
    url = secrets_url(tenant, app["clientId"])
    values = {(await client.post(url, headers=admin)).json()["value"] for _ in range(3)}
    values.add(app["secret"]["value"])
    assert len(values) == 4


async def test_create_secret_for_an_unknown_client_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    response = await client.post(secrets_url(tenant, "no-such-client"), json={}, headers=admin)
    assert_problem(response, 404, "not-found")
    assert await snapshot(ctx) == before


# --- the validity window -------------------------------------------------------------------


Body = Callable[[], dict[str, str]]


def _later(hours: float) -> datetime:
    return whole_seconds(timedelta(hours=hours))


WINDOW_ERRORS: list[tuple[str, Body, str, str]] = [
    (
        "23h-after-start",
        lambda: {
            "startTime": _later(1).isoformat(),
            "expiration": (_later(1) + timedelta(hours=23)).isoformat(),
        },
        "expiration",
        "one day",
    ),
    (
        "23h-after-default-start",
        lambda: {"expiration": _later(23).isoformat()},
        "expiration",
        "one day",
    ),
    (
        "over-three-years",
        lambda: {
            "startTime": _later(1).isoformat(),
            "expiration": (cred.add_months(_later(1), 36) + timedelta(seconds=1)).isoformat(),
        },
        "expiration",
        "three years",
    ),
    (
        "in-the-past",
        lambda: {
            "startTime": _later(-72).isoformat(),
            "expiration": _later(-1).isoformat(),
        },
        "expiration",
        "future",
    ),
    (
        "naive-expiration",
        lambda: {"expiration": (_later(24 * 30)).replace(tzinfo=None).isoformat()},
        "expiration",
        "time zone",
    ),
    (
        "naive-start",
        lambda: {
            "startTime": _later(1).replace(tzinfo=None).isoformat(),
            "expiration": _later(24 * 30).isoformat(),
        },
        "startTime",
        "time zone",
    ),
    ("not-a-date", lambda: {"expiration": "soon"}, "expiration", ""),
    ("own-value", lambda: {"value": cred.new_value(cred.Kind.CLIENT_SECRET)}, "value", "unknown field"),
    ("own-creator", lambda: {"createdBy": "system:pforte"}, "createdBy", "unknown field"),
]


@pytest.mark.parametrize(
    ("body", "field", "words"), [case[1:] for case in WINDOW_ERRORS], ids=[case[0] for case in WINDOW_ERRORS]
)
async def test_secret_window_errors_name_the_field_and_change_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    body: Body,
    field: str,
    words: str,
) -> None:
    app = await new_client(client, admin, tenant)
    before = await snapshot(ctx)
    response = await client.post(secrets_url(tenant, app["clientId"]), json=body(), headers=admin)
    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert words in problem["errors"][0]["message"]
    assert await snapshot(ctx) == before


async def test_expiration_exactly_one_day_after_start_is_accepted(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    app = await new_client(client, admin, tenant)
    start = whole_seconds(timedelta(hours=1))
    body = {"startTime": start.isoformat(), "expiration": (start + timedelta(days=1)).isoformat()}
    response = await client.post(secrets_url(tenant, app["clientId"]), json=body, headers=admin)
    assert response.status_code == 201, response.text
    assert moment(response.json()["startTime"]) == start
    assert moment(response.json()["expiration"]) == start + timedelta(days=1)


async def test_expiration_exactly_three_years_after_start_is_accepted(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    app = await new_client(client, admin, tenant)
    start = whole_seconds(timedelta(hours=1))
    expiration = cred.add_months(start, 36)
    body = {"startTime": start.isoformat(), "expiration": expiration.isoformat()}
    response = await client.post(secrets_url(tenant, app["clientId"]), json=body, headers=admin)
    assert response.status_code == 201, response.text
    assert moment(response.json()["expiration"]) == expiration


async def test_future_start_and_offset_times_are_kept_as_given(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    app = await new_client(client, admin, tenant)
    start = whole_seconds(timedelta(days=10))
    expiration = start + timedelta(days=30)
    plus_two = timezone(timedelta(hours=2))
    body = {"startTime": start.astimezone(plus_two).isoformat(), "expiration": expiration.isoformat()}
    response = await client.post(secrets_url(tenant, app["clientId"]), json=body, headers=admin)
    assert response.status_code == 201, response.text
    created = response.json()
    assert moment(created["startTime"]) == start
    assert moment(created["expiration"]) == expiration
    listed = await list_all(client, secrets_url(tenant, app["clientId"]), admin)
    mine = [s for s in listed if s["id"] == created["id"]]
    assert len(mine) == 1
    assert moment(mine[0]["startTime"]) == start
    assert moment(mine[0]["expiration"]) == expiration


# --- at most ten live secrets --------------------------------------------------------------


async def test_eleventh_live_secret_is_409_until_one_is_revoked(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    app = await new_client(client, admin, tenant)
    url = secrets_url(tenant, app["clientId"])
    for _ in range(cred.MAX_LIVE_SECRETS - 1):
        assert (await client.post(url, json={}, headers=admin)).status_code == 201
    assert len(await list_all(client, url, admin)) == cred.MAX_LIVE_SECRETS

    before = await snapshot(ctx)
    response = await client.post(url, json={}, headers=admin)
    problem = assert_problem(response, 409, "conflict")
    assert str(cred.MAX_LIVE_SECRETS) in problem["detail"]
    assert await snapshot(ctx) == before

    assert (await client.delete(f"{url}/{app['secret']['id']}", headers=admin)).status_code == 204
    again = await client.post(url, json={}, headers=admin)
    assert again.status_code == 201
    assert len(await list_all(client, url, admin)) == cred.MAX_LIVE_SECRETS


async def test_expired_secrets_do_not_count_against_the_limit(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    app = await new_client(client, admin, tenant)
    url = secrets_url(tenant, app["clientId"])
    for _ in range(cred.MAX_LIVE_SECRETS - 1):
        assert (await client.post(url, json={}, headers=admin)).status_code == 201
    assert (await client.post(url, json={}, headers=admin)).status_code == 409
    async with ctx.db.transaction() as session:
        await session.execute(
            update(ClientSecretRow)
            .where(ClientSecretRow.id == uuid.UUID(app["secret"]["id"]))
            .values(expiration=datetime.now(UTC) - timedelta(minutes=1))
        )
    assert (await client.post(url, json={}, headers=admin)).status_code == 201
    assert len(await list_all(client, url, admin)) == cred.MAX_LIVE_SECRETS + 1


# --- revoking a secret ---------------------------------------------------------------------


async def test_delete_secret_removes_it_and_is_audited(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    app = await new_client(client, admin, tenant)
    url = secrets_url(tenant, app["clientId"])
    second = (await client.post(url, json={}, headers=admin)).json()
    secret_id = app["secret"]["id"]

    response = await client.delete(f"{url}/{secret_id}", headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    assert [s["id"] for s in await list_all(client, url, admin)] == [second["id"]]
    assert await count_secret_rows(ctx, secret_id) == 0
    events = await audit_events(ctx, "client_secret.revoked", secret_id)
    assert len(events) == 1
    assert events[0].changes == {"clientId": app["clientId"]}
    assert events[0].actor.startswith("api_key:")

    before = await snapshot(ctx)
    again = await client.delete(f"{url}/{secret_id}", headers=admin)
    assert_problem(again, 404, "not-found")
    assert await snapshot(ctx) == before


async def count_secret_rows(ctx: Context, secret_id: str) -> int:
    async with ctx.db.transaction() as session:
        stmt = select(ClientSecretRow.id).where(ClientSecretRow.id == uuid.UUID(secret_id))
        return len((await session.scalars(stmt)).all())


@pytest.mark.parametrize("secret_id", [str(uuid.uuid4()), "not-a-uuid", "0"])
async def test_delete_unknown_secret_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, secret_id: str
) -> None:
    app = await new_client(client, admin, tenant)
    before = await snapshot(ctx)
    response = await client.delete(f"{secrets_url(tenant, app['clientId'])}/{secret_id}", headers=admin)
    assert_problem(response, 404, "not-found")
    assert await snapshot(ctx) == before


async def test_delete_another_clients_secret_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    one = await new_client(client, admin, tenant)
    other = await new_client(client, admin, tenant)
    before = await snapshot(ctx)
    response = await client.delete(
        f"{secrets_url(tenant, one['clientId'])}/{other['secret']['id']}", headers=admin
    )
    assert_problem(response, 404, "not-found")
    assert await snapshot(ctx) == before
    assert [s["id"] for s in await list_all(client, secrets_url(tenant, other["clientId"]), admin)] == [
        other["secret"]["id"]
    ]


async def test_delete_a_secret_through_another_tenant_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    other_tenant = (
        await client.post(BASE, json={"slug": f"t-{uuid.uuid4().hex[:10]}"}, headers=admin)
    ).json()
    victim = await new_client(client, admin, other_tenant["slug"])
    same_name = await new_client(client, admin, tenant, clientId=victim["clientId"])
    assert same_name["clientId"] == victim["clientId"]
    before = await snapshot(ctx)
    response = await client.delete(
        f"{secrets_url(tenant, victim['clientId'])}/{victim['secret']['id']}", headers=admin
    )
    assert_problem(response, 404, "not-found")
    assert await snapshot(ctx) == before


# --- public clients ------------------------------------------------------------------------


async def test_public_client_has_no_secrets(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    spa = await new_client(
        client,
        admin,
        tenant,
        requireClientSecret=False,
        allowedGrantTypes=["authorization_code"],
        redirectUris=["https://app.example.com/callback"],
    )
    assert spa["secret"] is None
    url = secrets_url(tenant, spa["clientId"])
    before = await snapshot(ctx)
    response = await client.post(url, json={}, headers=admin)
    assert_problem(response, 409, "conflict")
    assert await snapshot(ctx) == before
    assert await list_all(client, url, admin) == []


# --- listing -------------------------------------------------------------------------------


async def test_secrets_page_in_creation_order(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    app = await new_client(client, admin, tenant)
    url = secrets_url(tenant, app["clientId"])
    created = [app["secret"]["id"]]
    for i in range(4):
        response = await client.post(url, json={"description": f"s{i}"}, headers=admin)
        assert response.status_code == 201
        created.append(response.json()["id"])

    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await client.get(url, params=params, headers=admin)
        assert response.status_code == 200
        page = response.json()
        assert set(page) == {"items", "next"}
        sizes.append(len(page["items"]))
        seen += [item["id"] for item in page["items"]]
        assert all("value" not in item for item in page["items"])
        cursor = page["next"]
        if cursor is None:
            break
    assert sizes == [2, 2, 1]
    assert seen == created


@pytest.mark.parametrize(
    ("params", "field"), [({"limit": "0"}, "limit"), ({"cursor": "!!not-a-cursor!!"}, "cursor")]
)
async def test_bad_page_parameters_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, params: dict[str, str], field: str
) -> None:
    app = await new_client(client, admin, tenant)
    response = await client.get(secrets_url(tenant, app["clientId"]), params=params, headers=admin)
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == field


# --- API keys ------------------------------------------------------------------------------


async def test_create_api_key_returns_the_value_once(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    app = await new_client(client, admin, tenant, allowedScopes=["clients:read", "users:read", "reports"])
    url = keys_url(tenant, app["clientId"])
    response = await client.post(
        url, json={"name": "  nightly export  ", "scopes": ["clients:read", "clients:read"]}, headers=admin
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == KEY_FIELDS | {"value"}
    value = body["value"]
    assert KEY_RE.fullmatch(value)
    assert cred.is_well_formed(value, cred.Kind.API_KEY)
    assert body["valueDisplay"] == value[:7] + "…"
    assert body["name"] == "nightly export"
    assert body["scopes"] == ["clients:read"]
    assert body["expiration"] is None
    assert body["lastUsedAt"] is None

    listed = await client.get(url, headers=admin)
    assert listed.status_code == 200
    assert value not in listed.text
    assert listed.json()["items"] == [{k: v for k, v in body.items() if k != "value"}]

    rows = await snapshot(ctx)
    assert value not in repr(rows)
    assert value[4:] not in repr(rows)
    assert any(ctx.hasher.hash(value) in row for row in rows["api_keys"])

    events = await audit_events(ctx, "api_key.created", body["id"])
    assert len(events) == 1
    assert events[0].changes["valueDisplay"] == body["valueDisplay"]
    assert events[0].changes["scopes"] == ["clients:read"]
    assert value not in repr(events[0].changes)

    # The key works: it reads its tenant's clients.
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(value))).status_code == 200


async def test_create_api_key_with_an_expiration(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    app = await new_client(client, admin, tenant, allowedScopes=["clients:read"])
    expiration = whole_seconds(timedelta(days=7))
    response = await client.post(
        keys_url(tenant, app["clientId"]),
        json={"name": "week", "scopes": ["clients:read"], "expiration": expiration.isoformat()},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    assert moment(response.json()["expiration"]) == expiration


KEY_ERRORS: list[tuple[str, Callable[[], dict[str, Any]], str]] = [
    ("scope-not-held", lambda: {"name": "k", "scopes": ["users:write"]}, "scopes[0]"),
    ("second-scope-not-held", lambda: {"name": "k", "scopes": ["clients:read", "events:read"]}, "scopes[1]"),
    ("not-a-permission", lambda: {"name": "k", "scopes": ["reports"]}, "scopes[0]"),
    ("tenants-admin", lambda: {"name": "k", "scopes": ["tenants:admin"]}, "scopes[0]"),
    ("empty-scopes", lambda: {"name": "k", "scopes": []}, "scopes"),
    ("empty-name", lambda: {"name": "", "scopes": ["clients:read"]}, "name"),
    ("blank-name", lambda: {"name": "   ", "scopes": ["clients:read"]}, "name"),
    (
        "past-expiration",
        lambda: {"name": "k", "scopes": ["clients:read"], "expiration": _later(-1).isoformat()},
        "expiration",
    ),
    (
        "naive-expiration",
        lambda: {
            "name": "k",
            "scopes": ["clients:read"],
            "expiration": _later(48).replace(tzinfo=None).isoformat(),
        },
        "expiration",
    ),
    (
        "own-value",
        lambda: {"name": "k", "scopes": ["clients:read"], "value": cred.new_value(cred.Kind.API_KEY)},
        "value",
    ),
    (
        "own-creator",
        lambda: {"name": "k", "scopes": ["clients:read"], "createdBy": "system:cli"},
        "createdBy",
    ),
]


@pytest.mark.parametrize(
    ("body", "field"), [case[1:] for case in KEY_ERRORS], ids=[case[0] for case in KEY_ERRORS]
)
async def test_api_key_errors_name_the_field_and_change_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    body: Callable[[], dict[str, Any]],
    field: str,
) -> None:
    app = await new_client(client, admin, tenant, allowedScopes=["clients:read", "users:read", "reports"])
    before = await snapshot(ctx)
    response = await client.post(keys_url(tenant, app["clientId"]), json=body(), headers=admin)
    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("body", [{}, None], ids=["empty-object", "no-body"])
async def test_api_key_with_nothing_said_gets_a_name_and_the_clients_permissions(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, body: dict[str, Any] | None
) -> None:
    """awork's one-click "+": no name, no scopes."""
    app = await new_client(client, admin, tenant, allowedScopes=["users:read", "clients:read", "reports"])
    url = keys_url(tenant, app["clientId"])
    response = await (
        client.post(url, json=body, headers=admin) if body is not None else client.post(url, headers=admin)
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["scopes"] == ["clients:read", "users:read"]
    assert created["name"].startswith("API key 20")
    assert created["value"].startswith("pfk_")
    # The key works, with exactly those permissions.
    listed = await client.get(f"{BASE}/{tenant}/clients", headers=bearer(created["value"]))
    assert listed.status_code == 200


async def test_api_key_with_nothing_said_for_a_client_without_permissions_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    app = await new_client(client, admin, tenant, allowedScopes=["reports"])
    before = await snapshot(ctx)
    response = await client.post(keys_url(tenant, app["clientId"]), json={}, headers=admin)
    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["scopes"]
    assert "holds none" in problem["detail"]
    assert await snapshot(ctx) == before


async def test_deleted_api_key_is_refused_at_once(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    app = await new_client(client, admin, tenant, allowedScopes=["clients:read"])
    url = keys_url(tenant, app["clientId"])
    created = (await client.post(url, json={"name": "k", "scopes": ["clients:read"]}, headers=admin)).json()
    key = created["value"]
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 200

    response = await client.delete(f"{url}/{created['id']}", headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    assert await list_all(client, url, admin) == []
    events = await audit_events(ctx, "api_key.revoked", created["id"])
    assert len(events) == 1
    assert events[0].changes == {"clientId": app["clientId"]}

    refused = await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))
    assert_problem(refused, 401, "unauthorized")
    assert refused.headers["www-authenticate"] == 'Bearer realm="pforte", error="invalid_token"'

    before = await snapshot(ctx)
    again = await client.delete(f"{url}/{created['id']}", headers=admin)
    assert_problem(again, 404, "not-found")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("key_id", [str(uuid.uuid4()), "not-a-uuid"])
async def test_delete_unknown_api_key_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, key_id: str
) -> None:
    app = await new_client(client, admin, tenant, allowedScopes=["clients:read"])
    before = await snapshot(ctx)
    response = await client.delete(f"{keys_url(tenant, app['clientId'])}/{key_id}", headers=admin)
    assert_problem(response, 404, "not-found")
    assert await snapshot(ctx) == before


async def test_delete_another_clients_api_key_is_404(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    one = await new_client(client, admin, tenant, allowedScopes=["clients:read"])
    other = await new_client(client, admin, tenant, allowedScopes=["clients:read"])
    created = await client.post(
        keys_url(tenant, other["clientId"]), json={"name": "k", "scopes": ["clients:read"]}, headers=admin
    )
    assert created.status_code == 201
    before = await snapshot(ctx)
    response = await client.delete(
        f"{keys_url(tenant, one['clientId'])}/{created.json()['id']}", headers=admin
    )
    assert_problem(response, 404, "not-found")
    assert await snapshot(ctx) == before
    key = created.json()["value"]
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 200


async def test_api_key_list_shows_only_metadata(
    ctx: Context, client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read"], client_id="listed-holder")
    items = await list_all(client, keys_url(tenant, "listed-holder"), admin)
    assert [item["valueDisplay"] for item in items] == [key[:7] + "…"]
    assert all(set(item) == KEY_FIELDS for item in items)


# --- createdBy -----------------------------------------------------------------------------


def paths_holding(document: Any, text: str, path: str = "") -> list[str]:
    """The JSON paths (``secret.createdBy``, ``items[0].createdBy``) whose string value contains ``text``."""
    if isinstance(document, dict):
        return [p for k, v in document.items() for p in paths_holding(v, text, f"{path}.{k}" if path else k)]
    if isinstance(document, list):
        return [p for i, v in enumerate(document) for p in paths_holding(v, text, f"{path}[{i}]")]
    return [path] if isinstance(document, str) and text in document else []


async def test_created_by_names_the_calling_api_key_as_audit_events_do(
    client: httpx.AsyncClient, admin: dict[str, str], operator_key: str, ctx: Context, tenant: str
) -> None:
    label = await key_label(ctx, operator_key)
    app = await new_client(client, admin, tenant, allowedScopes=["clients:read"])
    secret = await client.post(secrets_url(tenant, app["clientId"]), json={}, headers=admin)
    key = await client.post(
        keys_url(tenant, app["clientId"]), json={"name": "k", "scopes": ["clients:read"]}, headers=admin
    )
    assert secret.status_code == key.status_code == 201
    secrets_listed = await client.get(secrets_url(tenant, app["clientId"]), headers=admin)
    keys_listed = await client.get(keys_url(tenant, app["clientId"]), headers=admin)

    assert app["secret"]["createdBy"] == label  # the first secret, made with the client
    assert secret.json()["createdBy"] == key.json()["createdBy"] == label
    assert [s["createdBy"] for s in secrets_listed.json()["items"]] == [label, label]
    assert [k["createdBy"] for k in keys_listed.json()["items"]] == [label]
    for event, target in [
        ("client_secret.created", app["secret"]["id"]),
        ("client_secret.created", secret.json()["id"]),
        ("api_key.created", key.json()["id"]),
    ]:
        assert [e.actor for e in await audit_events(ctx, event, target)] == [label]

    # The caller is named by its key's id, nowhere but in createdBy, and never by its value.
    responses = {"client": app, "secret": secret, "key": key, "secrets": secrets_listed, "keys": keys_listed}
    for name, response in responses.items():
        document = response if isinstance(response, dict) else response.json()
        assert operator_key not in repr(document), name
        assert all(p.endswith("createdBy") for p in paths_holding(document, label.removeprefix("api_key:")))
    rows = await snapshot(ctx)
    assert operator_key not in repr(rows)
    assert operator_key[4:] not in repr(rows)


async def test_created_by_is_the_caller_not_the_operator(
    client: httpx.AsyncClient, operator_key: str, ctx: Context, tenant: str
) -> None:
    """A tenant's own API key (clients:write) creates: createdBy names that key."""
    own = await make_key(ctx, tenant, ["clients:read", "clients:write"])
    label = await key_label(ctx, own)
    assert label != await key_label(ctx, operator_key)
    app = await new_client(client, bearer(own), tenant, allowedScopes=["clients:read"])
    secret = await client.post(secrets_url(tenant, app["clientId"]), json={}, headers=bearer(own))
    key = await client.post(keys_url(tenant, app["clientId"]), json={}, headers=bearer(own))
    assert secret.status_code == key.status_code == 201
    assert app["secret"]["createdBy"] == secret.json()["createdBy"] == key.json()["createdBy"] == label
    listed = await list_all(client, keys_url(tenant, app["clientId"]), bearer(own))
    assert [k["createdBy"] for k in listed] == [label]


async def test_credentials_from_before_created_by_show_null(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    """Rows from before migration 0007 hold NULL: the API shows ``createdBy: null``."""
    app = await new_client(client, admin, tenant, allowedScopes=["clients:read"])
    key = await client.post(keys_url(tenant, app["clientId"]), json={}, headers=admin)
    assert key.status_code == 201
    async with ctx.db.transaction() as session:
        for row in (ClientSecretRow, ApiKeyRow):
            await session.execute(
                update(row)
                .where(row.id.in_([uuid.UUID(app["secret"]["id"]), uuid.UUID(key.json()["id"])]))
                .values(created_by=None)
            )
    secrets = await list_all(client, secrets_url(tenant, app["clientId"]), admin)
    keys = await list_all(client, keys_url(tenant, app["clientId"]), admin)
    assert [(s["id"], s["createdBy"]) for s in secrets] == [(app["secret"]["id"], None)]
    assert [(k["id"], k["createdBy"]) for k in keys] == [(key.json()["id"], None)]


async def test_the_bootstrap_credentials_were_created_by_the_server(
    client: httpx.AsyncClient, admin: dict[str, str], operator_key: str, ctx: Context
) -> None:
    """``pforte init`` / the first start makes the operator's secret and key as ``system:pforte``."""
    key_id = (await key_label(ctx, operator_key)).removeprefix("api_key:")
    keys = await list_all(client, keys_url("system", ADMIN_CLIENT_ID), admin)
    secrets = await list_all(client, secrets_url("system", ADMIN_CLIENT_ID), admin)
    assert [k["createdBy"] for k in keys if k["id"] == key_id] == ["system:pforte"]
    assert [s["createdBy"] for s in secrets if s["description"] == "bootstrap"] == ["system:pforte"]
