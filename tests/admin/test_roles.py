"""The roles routes of the admin API (DESIGN.md §6, §7): CRUD of tenant roles and client roles,
the built-in ``admin`` role kept whole, and no principal granting what it does not hold."""

from __future__ import annotations

import httpx
import pytest

from pforte.domain import permissions
from pforte.domain.clients import ClientSpec
from pforte.services import clients as client_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from tests.conftest import assert_problem, audit_events, bearer, make_key, snapshot

pytestmark = pytest.mark.anyio
BASE = "/api/admin/v1/tenants"


async def test_role_lifecycle(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    url = f"{BASE}/{tenant}/roles"
    created = await client.post(
        url,
        json={"name": "support", "description": "first line", "permissions": ["users:write", "users:read"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    role = created.json()
    assert (role["name"], role["permissions"], role["builtin"]) == (
        "support",
        ["users:read", "users:write"],
        False,
    )
    listed = (await client.get(url, headers=admin)).json()
    assert [r["name"] for r in listed["items"]] == ["admin", "support"] and listed["next"] is None
    admin_role = listed["items"][0]
    assert admin_role["builtin"] is True
    assert admin_role["permissions"] == [p.name for p in permissions.CATALOGUE if not p.system_only]
    patched = await client.patch(f"{url}/support", json={"permissions": ["users:read"]}, headers=admin)
    assert patched.status_code == 200 and patched.json()["permissions"] == ["users:read"]
    assert patched.json()["description"] == "first line"
    assert (await client.delete(f"{url}/support", headers=admin)).status_code == 204
    assert_problem(await client.get(f"{url}/support", headers=admin), 404, "not-found")
    assert [e.name for e in await audit_events(ctx, "role.deleted", "support")] == ["role.deleted"]


async def test_the_admin_role_is_kept_whole(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    before = await snapshot(ctx)
    emptied = await client.patch(f"{BASE}/{tenant}/roles/admin", json={"permissions": []}, headers=admin)
    assert_problem(emptied, 409, "conflict")
    deleted = await client.delete(f"{BASE}/{tenant}/roles/admin", headers=admin)
    assert_problem(deleted, 409, "conflict")
    taken = await client.post(f"{BASE}/{tenant}/roles", json={"name": "admin"}, headers=admin)
    assert_problem(taken, 409, "conflict")
    assert await snapshot(ctx) == before


async def test_no_role_grants_what_its_maker_lacks(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    key = bearer(await make_key(ctx, tenant, ["roles:write", "users:read"]))
    ok = await client.post(
        f"{BASE}/{tenant}/roles", json={"name": "readers", "permissions": ["users:read"]}, headers=key
    )
    assert ok.status_code == 201
    before = await snapshot(ctx)
    wider = await client.post(
        f"{BASE}/{tenant}/roles", json={"name": "writers", "permissions": ["users:write"]}, headers=key
    )
    assert_problem(wider, 403, "forbidden")
    widened = await client.patch(
        f"{BASE}/{tenant}/roles/readers", json={"permissions": ["users:read", "clients:write"]}, headers=key
    )
    assert_problem(widened, 403, "forbidden")
    unknown = await client.post(
        f"{BASE}/{tenant}/roles", json={"name": "odd", "permissions": ["users:fly"]}, headers=key
    )
    assert_problem(unknown, 422, "validation-error")
    bad_name = await client.post(f"{BASE}/{tenant}/roles", json={"name": "no spaces"}, headers=key)
    assert_problem(bad_name, 422, "validation-error")
    assert await snapshot(ctx) == before


async def test_a_role_a_client_is_restricted_to_cannot_go(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    assert (
        await client.post(f"{BASE}/{tenant}/roles", json={"name": "staff"}, headers=admin)
    ).status_code == 201
    spec = ClientSpec(
        client_id="intranet",
        allowed_grant_types=["authorization_code"],
        redirect_uris=["https://in.example/cb"],
        restrict_to_role="staff",
    )
    await client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant, spec)
    before = await snapshot(ctx)
    assert_problem(await client.delete(f"{BASE}/{tenant}/roles/staff", headers=admin), 409, "conflict")
    assert await snapshot(ctx) == before


async def test_client_roles(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    await client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant, ClientSpec(client_id="shop"))
    url = f"{BASE}/{tenant}/clients/shop/roles"
    created = await client.post(url, json={"name": "viewer", "description": "reads"}, headers=admin)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in ("clientId", "name", "description")} == {
        "clientId": "shop",
        "name": "viewer",
        "description": "reads",
    }
    assert_problem(await client.post(url, json={"name": "viewer"}, headers=admin), 409, "conflict")
    assert [r["name"] for r in (await client.get(url, headers=admin)).json()["items"]] == ["viewer"]
    assert (await client.get(f"{url}/viewer", headers=admin)).json()["name"] == "viewer"
    assert (await client.delete(f"{url}/viewer", headers=admin)).status_code == 204
    assert_problem(await client.get(f"{url}/viewer", headers=admin), 404, "not-found")
    assert_problem(await client.delete(f"{url}/viewer", headers=admin), 404, "not-found")
    assert_problem(await client.get(f"{BASE}/{tenant}/clients/nope/roles", headers=admin), 404, "not-found")


@pytest.mark.parametrize("name", ["%00", "a%0Ab", "x" * 300, "%2e%2e"])
async def test_hostile_role_names_are_not_found(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, name: str
) -> None:
    for url in (f"{BASE}/{tenant}/roles/{name}",):
        for method in ("GET", "PATCH", "DELETE"):
            body = {"description": "x"} if method == "PATCH" else None
            response = await client.request(method, url, json=body, headers=admin)
            assert response.status_code == 404, (method, name, response.text)
