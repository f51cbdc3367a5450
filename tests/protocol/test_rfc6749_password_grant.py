"""RFC 6749 §4.3 password grant: only with ``allowRopc`` and the grant, audited, not advertised,
one ``invalid_grant`` for every wrong credential, ``restrictToRole`` honoured."""

from __future__ import annotations

import httpx
import pytest

from pforte.services import roles as role_service
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from tests.conftest import audit_events
from tests.protocol.flow import PASSWORD, App, make_app

pytestmark = pytest.mark.anyio


async def ropc_app(ctx: Context, tenant: str, **fields: object) -> App:
    return await make_app(ctx, tenant, allowed_grant_types=["password"], allow_ropc=True, **fields)


async def password_grant(http: httpx.AsyncClient, app: App, **data: str) -> httpx.Response:
    form = {"grant_type": "password", "username": app.username, "password": PASSWORD, **data}
    return await http.post(f"{app.base}/token", data=form, auth=(app.client_id, app.secret or ""))


async def test_a_ropc_client_gets_user_tokens_and_the_use_is_audited(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await ropc_app(ctx, tenant)
    answer = await password_grant(client, app, scope="openid email")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["scope"] == "openid email" and "id_token" in body and "refresh_token" not in body
    assert len(await audit_events(ctx, "password_grant.used", str(app.user_id))) == 1


async def test_a_client_without_allow_ropc_is_unauthorized(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    answer = await password_grant(client, app)
    assert (answer.status_code, answer.json()["error"]) == (400, "unauthorized_client")


@pytest.mark.parametrize("wrong", [{"password": "not the password"}, {"username": "nobody-here"}])
async def test_every_wrong_credential_is_one_invalid_grant(
    client: httpx.AsyncClient, ctx: Context, tenant: str, wrong: dict[str, str]
) -> None:
    app = await ropc_app(ctx, tenant)
    answer = await password_grant(client, app, **wrong)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "invalid_grant", "error_description": "the username or password is not valid"},
    )
    assert await audit_events(ctx, "password_grant.used", str(app.user_id)) == []


async def test_restrict_to_role_and_a_disabled_user(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name="staff", description=None, permissions=[]
    )
    app = await ropc_app(ctx, tenant, restrict_to_role="staff")
    refused = await password_grant(client, app)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    await user_service.add_role(ctx, SYSTEM_PRINCIPAL, tenant, app.username, "staff")
    assert (await password_grant(client, app)).status_code == 200
    await user_service.update_user(
        ctx, SYSTEM_PRINCIPAL, tenant, app.username, user_service.UserChange(enabled=False)
    )
    assert (await password_grant(client, app)).json()["error"] == "invalid_grant"


async def test_repeated_failures_are_throttled_per_account(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await ropc_app(ctx, tenant)
    statuses = [(await password_grant(client, app, password=f"wrong {i}")).status_code for i in range(10)]
    assert statuses == [400] * 10
    # the sliding window may weigh a previous minute's failures: the 429 comes by the 16th at the latest
    more = [(await password_grant(client, app, password=f"more {i}")).status_code for i in range(6)]
    assert 429 in more and set(more) <= {400, 429}
    blocked = await password_grant(client, app)  # even the right password, while blocked
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
