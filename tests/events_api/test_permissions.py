"""Every route of the Event and the Metric API needs ``events:read`` (DESIGN.md §3, §7): with
it, 200 (API key or client-credentials token); with every other permission, 403
``insufficient_scope``; from another tenant, 403; a user's token whose roles lack it, 403."""

from __future__ import annotations

import httpx
import pytest

from pforte.domain import permissions
from pforte.domain.clients import ClientSpec
from pforte.services import clients as client_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from tests.conftest import assert_problem, bearer, make_key, make_tenant
from tests.protocol.flow import reader_token

pytestmark = pytest.mark.anyio
EVERY = [p.name for p in permissions.CATALOGUE if not p.system_only]
ROUTES = [
    "/api/events/v1/tenants/{t}/events",
    "/api/events/v1/tenants/{t}/events?type=user.&limit=10",
    "/api/metrics/v1/tenants/{t}/daily",
    "/api/metrics/v1/tenants/{t}/daily?from=2026-01-01&to=2026-12-31&clientId=shop",
]


@pytest.mark.parametrize("route", ROUTES)
async def test_events_read_opens_the_route_to_an_api_key(
    client: httpx.AsyncClient, ctx: Context, tenant: str, route: str
) -> None:
    key = await make_key(ctx, tenant, ["events:read"])
    response = await client.get(route.replace("{t}", tenant), headers=bearer(key))
    assert response.status_code == 200, response.text
    assert response.json()["items"] is not None


@pytest.mark.parametrize("route", ROUTES)
async def test_every_other_permission_is_not_enough(
    client: httpx.AsyncClient, ctx: Context, tenant: str, route: str
) -> None:
    key = await make_key(ctx, tenant, [p for p in EVERY if p != "events:read"])
    response = await client.get(route.replace("{t}", tenant), headers=bearer(key))
    assert_problem(response, 403, "forbidden")
    assert response.headers["www-authenticate"].endswith('error="insufficient_scope", scope="events:read"')


@pytest.mark.parametrize("route", ROUTES)
async def test_another_tenants_credential_is_refused(
    client: httpx.AsyncClient, ctx: Context, tenant: str, route: str
) -> None:
    key = await make_key(ctx, await make_tenant(ctx), EVERY)
    response = await client.get(route.replace("{t}", tenant), headers=bearer(key))
    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize("route", ROUTES)
async def test_a_client_credentials_token_with_events_read_is_accepted(
    client: httpx.AsyncClient, ctx: Context, tenant: str, route: str
) -> None:
    spec = ClientSpec(client_id="caller", allowed_scopes=["events:read"])
    _client, secret = await client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant, spec)
    assert secret is not None
    grant = await client.post(
        f"/t/{tenant}/token", data={"grant_type": "client_credentials"}, auth=("caller", secret.value)
    )
    assert grant.status_code == 200, grant.text
    response = await client.get(route.replace("{t}", tenant), headers=bearer(grant.json()["access_token"]))
    assert response.status_code == 200, response.text


async def test_a_users_token_without_events_read_in_their_roles_is_refused(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    token = await reader_token(client, ctx, tenant, also="events:read")
    for route in ROUTES:
        response = await client.get(route.replace("{t}", tenant), headers=bearer(token))
        assert_problem(response, 403, "forbidden")
        assert 'error="insufficient_scope", scope="events:read"' in response.headers["www-authenticate"]
