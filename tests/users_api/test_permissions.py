"""Every route of the User API and of the roles routes of the admin API, each with the exact
permission it needs (DESIGN.md §7): with it, success; without it, 403 ``insufficient_scope``
and nothing changed; from another tenant, refused; by API key and by access token; and a
user's token whose roles lack the permission, refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pforte.domain import permissions
from pforte.domain.clients import ClientSpec
from pforte.services import clients as client_service
from pforte.services import roles as role_service
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from tests.conftest import assert_problem, bearer, make_key, make_tenant, snapshot
from tests.protocol.flow import reader_token

pytestmark = pytest.mark.anyio
USERS = "/api/users/v1/tenants"
ADMIN = "/api/admin/v1/tenants"
EVERY = [p.name for p in permissions.CATALOGUE if not p.system_only]


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str  # {t}: the tenant; ada, staff and viewer exist there (see ``world``)
    permission: str
    status: int
    body: dict[str, Any] | None = None

    def url(self, tenant: str) -> str:
        return self.path.replace("{t}", tenant)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


CALLS = [
    Call("GET", f"{USERS}/{{t}}/users", "users:read", 200),
    Call("POST", f"{USERS}/{{t}}/users", "users:write", 201, {"username": "grace"}),
    Call("GET", f"{USERS}/{{t}}/users/ada", "users:read", 200),
    Call("PATCH", f"{USERS}/{{t}}/users/ada", "users:write", 200, {"givenName": "Ada"}),
    Call("DELETE", f"{USERS}/{{t}}/users/ada", "users:write", 204),
    Call("POST", f"{USERS}/{{t}}/users/ada/disable", "users:write", 200),
    Call("POST", f"{USERS}/{{t}}/users/ada/enable", "users:write", 200),
    Call("PUT", f"{USERS}/{{t}}/users/ada/password", "users:write", 204, {"password": "a new passphrase"}),
    Call("GET", f"{USERS}/{{t}}/users/ada/roles", "users.roles:read", 200),
    Call("POST", f"{USERS}/{{t}}/users/ada/roles", "users:write", 204, {"name": "clerk"}),
    Call("DELETE", f"{USERS}/{{t}}/users/ada/roles/staff", "users:write", 204),
    Call("GET", f"{ADMIN}/{{t}}/roles", "users.roles:read", 200),
    Call("POST", f"{ADMIN}/{{t}}/roles", "roles:write", 201, {"name": "auditor"}),
    Call("GET", f"{ADMIN}/{{t}}/roles/staff", "users.roles:read", 200),
    Call("PATCH", f"{ADMIN}/{{t}}/roles/staff", "roles:write", 200, {"description": "the staff"}),
    Call("DELETE", f"{ADMIN}/{{t}}/roles/clerk", "roles:write", 204),
    Call("GET", f"{ADMIN}/{{t}}/clients/shop/roles", "clients.roles:read", 200),
    Call("POST", f"{ADMIN}/{{t}}/clients/shop/roles", "clients:write", 201, {"name": "editor"}),
    Call("GET", f"{ADMIN}/{{t}}/clients/shop/roles/viewer", "clients.roles:read", 200),
    Call("DELETE", f"{ADMIN}/{{t}}/clients/shop/roles/viewer", "clients:write", 204),
]


async def world(ctx: Context) -> str:
    """A tenant with the user ada (holding the role staff), the roles staff and clerk (no
    permissions) and the client shop with its role viewer."""
    tenant = await make_tenant(ctx)
    for name in ("staff", "clerk"):
        await role_service.create_role(
            ctx, SYSTEM_PRINCIPAL, tenant, name=name, description=None, permissions=[]
        )
    await user_service.create_user(
        ctx, SYSTEM_PRINCIPAL, tenant, user_service.UserSpec(username="ada"), roles=["staff"]
    )
    await client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant, ClientSpec(client_id="shop"))
    await role_service.create_client_role(
        ctx, SYSTEM_PRINCIPAL, tenant, "shop", name="viewer", description=None
    )
    return tenant


async def send(http: httpx.AsyncClient, call: Call, tenant: str, key: str) -> httpx.Response:
    return await http.request(call.method, call.url(tenant), json=call.body, headers=bearer(key))


@pytest.mark.parametrize("call", CALLS, ids=str)
async def test_the_permission_opens_the_route_to_an_api_key(
    client: httpx.AsyncClient, ctx: Context, call: Call
) -> None:
    tenant = await world(ctx)
    key = await make_key(ctx, tenant, [call.permission])
    response = await send(client, call, tenant, key)
    assert response.status_code == call.status, response.text


@pytest.mark.parametrize("call", CALLS, ids=str)
async def test_every_other_permission_is_not_enough(
    client: httpx.AsyncClient, ctx: Context, call: Call
) -> None:
    tenant = await world(ctx)
    key = await make_key(ctx, tenant, [p for p in EVERY if p != call.permission])
    before = await snapshot(ctx)
    response = await send(client, call, tenant, key)
    assert_problem(response, 403, "forbidden")
    assert response.headers["www-authenticate"].endswith(
        f'error="insufficient_scope", scope="{call.permission}"'
    )
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("call", CALLS, ids=str)
async def test_another_tenants_credential_is_refused(
    client: httpx.AsyncClient, ctx: Context, call: Call
) -> None:
    tenant, other = await world(ctx), await make_tenant(ctx)
    key = await make_key(ctx, other, EVERY)
    before = await snapshot(ctx)
    response = await send(client, call, tenant, key)
    assert_problem(response, 403, "forbidden")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("call", [c for c in CALLS if c.method == "GET"] + [CALLS[1]], ids=str)
async def test_an_access_token_with_the_permission_is_accepted(
    client: httpx.AsyncClient, ctx: Context, call: Call
) -> None:
    tenant = await world(ctx)
    spec = ClientSpec(client_id="caller", allowed_scopes=[call.permission])
    _client, secret = await client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant, spec)
    assert secret is not None
    grant = await client.post(
        f"/t/{tenant}/token", data={"grant_type": "client_credentials"}, auth=("caller", secret.value)
    )
    assert grant.status_code == 200, grant.text
    response = await send(client, call, tenant, grant.json()["access_token"])
    assert response.status_code == call.status, response.text


async def test_a_users_token_carries_only_what_their_roles_hold(
    client: httpx.AsyncClient, ctx: Context
) -> None:
    tenant = await world(ctx)
    token = await reader_token(client, ctx, tenant, also="users:write")
    listed = await client.get(f"{USERS}/{tenant}/users", headers=bearer(token))
    assert listed.status_code == 200
    before = await snapshot(ctx)
    refused = await client.post(
        f"{USERS}/{tenant}/users", json={"username": "mallory"}, headers=bearer(token)
    )
    assert_problem(refused, 403, "forbidden")
    assert 'error="insufficient_scope", scope="users:write"' in refused.headers["www-authenticate"]
    assert await snapshot(ctx) == before
