"""Lost updates are detectable (RFC 9110 §13.1.1) and tools that write state read it back:
``ETag`` on tenants and clients, ``If-Match`` on PUT/PATCH/DELETE (412 problem+json, nothing
changed), and GET → edit → PUT with the read-only members of the GET."""

from __future__ import annotations

import httpx
import pytest

from pforte.services.context import Context
from tests.admin.test_clients import client_url, create
from tests.conftest import assert_problem, audit_events, snapshot

pytestmark = pytest.mark.anyio
TENANTS = "/api/admin/v1/tenants"


async def test_client_etag_changes_with_every_change_and_only_then(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    created = await create(client, admin, tenant)
    url = client_url(tenant, created["clientId"])
    first = await client.get(url, headers=admin)
    assert first.headers["etag"] == '"1"'
    same = await client.patch(url, json={"description": None}, headers=admin)  # changes nothing
    assert same.status_code == 200 and same.headers["etag"] == '"1"'
    changed = await client.patch(url, json={"description": "x"}, headers=admin)
    assert changed.status_code == 200 and changed.headers["etag"] == '"2"'
    assert (await client.get(url, headers=admin)).headers["etag"] == '"2"'


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, method: str
) -> None:
    created = await create(client, admin, tenant)
    url = client_url(tenant, created["clientId"])
    stale = (await client.get(url, headers=admin)).headers["etag"]
    assert (await client.patch(url, json={"owner": "someone else"}, headers=admin)).status_code == 200
    before = await snapshot(ctx)
    body = None if method == "DELETE" else {"description": "lost update"}
    response = await client.request(method, url, json=body, headers={**admin, "If-Match": stale})
    problem = assert_problem(response, 412, "precondition-failed")
    assert stale in problem["detail"] and '"2"' in problem["detail"]
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("if_match", ['"1"', "*", '"7", "1"'])
async def test_matching_if_match_makes_the_change(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, if_match: str
) -> None:
    created = await create(client, admin, tenant)
    url = client_url(tenant, created["clientId"])
    response = await client.patch(url, json={"owner": "ops"}, headers={**admin, "If-Match": if_match})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    deleted = await client.delete(url, headers={**admin, "If-Match": '"2"'})
    assert deleted.status_code == 204
    assert len(await audit_events(ctx, "client.deleted", created["clientId"])) == 1


async def test_weak_tags_never_match(client: httpx.AsyncClient, admin: dict[str, str], tenant: str) -> None:
    created = await create(client, admin, tenant)
    url = client_url(tenant, created["clientId"])
    response = await client.patch(url, json={"owner": "ops"}, headers={**admin, "If-Match": 'W/"1"'})
    assert_problem(response, 412, "precondition-failed")


async def test_tenant_etag_and_if_match(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context
) -> None:
    slug = "etag-tenant"
    created = await client.post(TENANTS, json={"slug": slug}, headers=admin)
    assert created.status_code == 201 and created.headers["etag"] == '"1"'
    got = await client.get(f"{TENANTS}/{slug}", headers=admin)
    assert got.headers["etag"] == '"1"'
    renamed = await client.patch(
        f"{TENANTS}/{slug}", json={"displayName": "Renamed"}, headers={**admin, "If-Match": '"1"'}
    )
    assert renamed.status_code == 200 and renamed.headers["etag"] == '"2"'
    before = await snapshot(ctx)
    stale = await client.patch(
        f"{TENANTS}/{slug}", json={"displayName": "Lost"}, headers={**admin, "If-Match": '"1"'}
    )
    assert_problem(stale, 412, "precondition-failed")
    stale_delete = await client.delete(f"{TENANTS}/{slug}", headers={**admin, "If-Match": '"1"'})
    assert_problem(stale_delete, 412, "precondition-failed")
    assert await snapshot(ctx) == before
    assert (await client.delete(f"{TENANTS}/{slug}", headers={**admin, "If-Match": '"2"'})).status_code == 204


async def test_get_edit_put_round_trip(client: httpx.AsyncClient, admin: dict[str, str], tenant: str) -> None:
    created = await create(client, admin, tenant, allowedScopes=["clients:read"])
    url = client_url(tenant, created["clientId"])
    got = await client.get(url, headers=admin)
    body = got.json()
    body["description"] = "edited by a tool"
    response = await client.put(url, json=body, headers={**admin, "If-Match": got.headers["etag"]})
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["description"] == "edited by a tool"
    assert after["allowedScopes"] == ["clients:read"]
    assert after["id"] == body["id"] and after["createdAt"] == body["createdAt"]
    assert after["updatedAt"] != body["updatedAt"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "01a00000-0000-7000-8000-000000000000"),
        ("createdAt", "2020-01-01T00:00:00Z"),
        ("updatedAt", "2020-01-01T00:00:00Z"),
    ],
)
async def test_put_with_a_changed_read_only_member_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, field: str, value: str
) -> None:
    created = await create(client, admin, tenant)
    url = client_url(tenant, created["clientId"])
    body = (await client.get(url, headers=admin)).json()
    body[field] = value
    before = await snapshot(ctx)
    response = await client.put(url, json=body, headers=admin)
    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert "read-only" in problem["errors"][0]["message"]
    assert await snapshot(ctx) == before


async def test_secret_window_error_names_the_default_it_applied(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    created = await create(client, admin, tenant)
    before = await snapshot(ctx)
    response = await client.post(
        f"{client_url(tenant, created['clientId'])}/secrets",
        json={"startTime": "2020-01-01T00:00:00Z"},
        headers=admin,
    )
    problem = assert_problem(response, 422, "validation-error")
    (error,) = problem["errors"]
    assert error["field"] == "expiration"
    assert error["message"].startswith("not given, so its default (six months from now, ")
    assert error["message"].endswith("must be at most three years after startTime; send an expiration")
    assert await snapshot(ctx) == before
