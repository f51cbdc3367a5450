"""The account console ``/t/{slug}/account`` (DESIGN.md §6) and the consoles' built-in clients
(DESIGN.md §8), over HTTP against the ASGI app on SQLite and PostgreSQL.

The console signs people in like any application: through the tenant's ``/authorize`` as the
public client ``pforte-account-console`` with PKCE; these tests walk that flow through the real
sign-in form and assert the cookies, the page and the storage afterwards."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from pforte.domain.consoles import ACCOUNT, ADMIN
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.consoles import ensure_console_clients
from pforte.services.context import Context
from pforte.services.users import UserChange
from pforte.store.repos.tenants import TenantRepo
from pforte.store.tables import ClientRow, ConsentRow, RefreshTokenRow, SessionRow
from tests.conftest import PUBLIC_URL, assert_problem, audit_events, make_tenant, snapshot
from tests.protocol.flow import PASSWORD, App, form_of, make_app, query_of
from tests.web.consoles import local, sign_in_to_console

pytestmark = pytest.mark.anyio


async def sign_in(http: httpx.AsyncClient, app: App) -> httpx.Response:
    return await sign_in_to_console(http, app.tenant, app.username)


async def rows(ctx: Context, table: type, **where: object) -> list[object]:
    async with ctx.db.transaction() as session:
        stmt = select(table).where(*(getattr(table, k) == v for k, v in where.items()))
        return list((await session.scalars(stmt)).all())


async def test_a_signed_out_visit_starts_the_code_flow_with_pkce(
    client: httpx.AsyncClient, tenant: str
) -> None:
    answer = await client.get(f"/t/{tenant}/account")
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    assert target.path == f"/t/{tenant}/authorize"
    params = query_of(answer.headers["location"])
    assert params["client_id"] == ACCOUNT.client_id
    assert params["redirect_uri"] == f"{PUBLIC_URL}/t/{tenant}/account/callback"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["response_type"] == "code" and len(params["state"]) >= 32
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("pforte_console_flow=")
    assert f"Path=/t/{tenant}/account" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert answer.headers["cache-control"] == "no-store"


async def test_a_person_signs_in_and_sees_their_profile(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    page = await sign_in(client, app)
    assert page.status_code == 200
    assert app.username in page.text and f"{app.username}@example.com" in page.text
    assert "Ada L" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    # The consoles' own clients are never listed; an app the user never used is not either.
    assert ACCOUNT.client_id not in page.text and ADMIN.client_id not in page.text
    assert app.client_id not in page.text


async def test_show_in_account_console_lists_the_app_without_a_grant(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    shown = await make_app(ctx, tenant, show_in_account_console=True, client_name="Wiki")
    page = await sign_in(client, app)
    assert "Wiki" in page.text
    # listed, but with nothing to withdraw
    assert f'name="client_id" value="{shown.client_id}"' not in page.text
    assert "You have not granted this application access." in page.text


async def test_withdrawing_consent_deletes_it_revokes_refresh_tokens_and_is_audited(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    app = await make_app(
        ctx,
        tenant,
        require_consent=True,
        allow_offline_access=True,
        allowed_grant_types=["authorization_code", "refresh_token"],
        client_name="Calendar",
    )
    # the user consents (remembered) and the app gets a refresh token
    params = app.authorize_params(scope="openid profile")
    consent_page = await app.sign_in(client, params)
    action, fields = form_of(consent_page.text)
    answer = await client.post(action, data={**fields, "decision": "allow", "remember": "yes"})
    code = query_of(answer.headers["location"])["code"]
    tokens = (await app.exchange(client, code)).json()
    assert "refresh_token" in tokens

    page = await sign_in(client, app)
    assert "Calendar" in page.text and "offline access" in page.text
    action, fields = form_of(page.text.split('class="application"', 1)[1])
    assert action == f"/t/{tenant}/account/withdraw" and fields["client_id"] == app.client_id
    done = await client.post(action, data=fields)
    assert done.status_code == 303
    assert done.headers["location"] == f"/t/{tenant}/account/?notice=withdrawn"

    assert await rows(ctx, ConsentRow, user_id=app.user_id) == []
    tokens_left = await rows(ctx, RefreshTokenRow, user_id=app.user_id)
    assert tokens_left and all(getattr(t, "revoked_at", None) is not None for t in tokens_left)
    refreshed = await client.post(
        f"/t/{tenant}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=app.client_auth() or httpx.USE_CLIENT_DEFAULT,
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    [event] = await audit_events(ctx, "consent.withdrawn", app.client_id)
    assert event.actor == f"user:{app.user_id}"
    assert event.changes["refreshTokensRevoked"] >= 1
    assert sorted(event.changes["scopes"]) == ["openid", "profile"]

    after = await client.get(done.headers["location"])
    assert "Access removed." in after.text
    # the next sign-in to the app asks again
    again = await client.get(f"/t/{tenant}/authorize", params=app.authorize_params())
    assert again.status_code == 200 and f'action="/t/{tenant}/consent"' in again.text


async def test_withdraw_without_the_csrf_token_changes_nothing(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    app = await make_app(ctx, tenant, require_consent=True)
    consent_page = await app.sign_in(client, app.authorize_params())
    action, fields = form_of(consent_page.text)
    await client.post(action, data={**fields, "decision": "allow", "remember": "yes"})
    await sign_in(client, app)
    before = await snapshot(ctx)
    for data in ({"client_id": app.client_id}, {"client_id": app.client_id, "csrf_token": "forged"}):
        refused = await client.post(f"/t/{tenant}/account/withdraw", data=data)
        assert refused.status_code == 403
    assert await snapshot(ctx) == before
    assert len(await rows(ctx, ConsentRow, user_id=app.user_id)) == 1


async def test_a_forged_or_replayed_callback_signs_no_one_in(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    start = await client.get(f"/t/{tenant}/account/")
    page = await client.get(local(start.headers["location"]))
    action, fields = form_of(page.text)
    answer = await client.post(action, data={**fields, "username": app.username, "password": PASSWORD})
    callback = local(answer.headers["location"])
    got = query_of(answer.headers["location"])
    assert got["iss"] == f"{PUBLIC_URL}/t/{tenant}"

    wrong_state = callback.replace(f"state={got['state']}", "state=not-the-state")
    refused = await client.get(wrong_state)
    assert refused.status_code == 400 and "pforte_console=" not in refused.headers.get("set-cookie", "")
    wrong_iss = callback.replace("iss=", "iss=x")
    assert (await client.get(wrong_iss)).status_code == 400

    ok = await client.get(callback)
    assert ok.status_code == 303 and "pforte_console=" in ok.headers["set-cookie"]
    # the flow cookie went with it, and the code is used up
    replay = await client.get(callback)
    assert replay.status_code == 400

    # a code the console did not ask for (another browser's flow cookie is missing): refused
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with other:
        assert (await other.get(callback)).status_code == 400


async def test_a_code_of_another_client_is_not_redeemed_by_the_console(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    start = await client.get(f"/t/{tenant}/account/")
    flow = query_of(start.headers["location"])
    code, _params = await app.code(client)  # the shop's code, in the same browser
    answer = await client.get(
        f"/t/{tenant}/account/callback",
        params={"code": code, "state": flow["state"], "iss": f"{PUBLIC_URL}/t/{tenant}"},
    )
    assert answer.status_code == 400
    assert "pforte_console=" not in answer.headers.get("set-cookie", "")


async def test_signing_out_ends_the_session_everywhere(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    page = await sign_in(client, app)
    assert len(await rows(ctx, SessionRow, user_id=app.user_id)) == 1
    action, fields = form_of(page.text[page.text.rindex("<form") :])  # the last form: sign out
    assert action == f"/t/{tenant}/account/sign-out"
    out = await client.post(action, data=fields)
    assert out.status_code == 200 and "You are signed out" in out.text
    assert await rows(ctx, SessionRow, user_id=app.user_id) == []
    [event] = await audit_events(ctx, "user.signed_out", str(app.user_id))
    assert event.actor == f"user:{app.user_id}"
    again = await client.get(f"/t/{tenant}/account/")
    assert again.status_code == 303 and "/authorize?" in again.headers["location"]


async def test_a_disabled_user_is_signed_out_of_the_console(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    assert (await sign_in(client, app)).status_code == 200
    await user_service.update_user(ctx, SYSTEM_PRINCIPAL, tenant, str(app.user_id), UserChange(enabled=False))
    again = await client.get(f"/t/{tenant}/account/")
    assert again.status_code == 303 and "/authorize?" in again.headers["location"]


async def test_the_console_cookie_of_one_tenant_is_worthless_at_another(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    await sign_in(client, app)
    other = await make_tenant(ctx)
    console = client.cookies.get("pforte_console", path=f"/t/{tenant}/account")
    session = client.cookies.get("pforte_session", path=f"/t/{tenant}")
    assert console and session
    stranger = httpx.AsyncClient(
        transport=client._transport,
        base_url="http://testserver",
        cookies={"pforte_console": console, "pforte_session": session},
    )
    async with stranger:
        answer = await stranger.get(f"/t/{other}/account/")
    assert answer.status_code == 303 and f"/t/{other}/authorize?" in answer.headers["location"]


async def test_the_console_speaks_german(ctx: Context, client: httpx.AsyncClient, tenant: str) -> None:
    app = await make_app(ctx, tenant)
    await sign_in(client, app)
    page = await client.get(f"/t/{tenant}/account/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="de">' in page.text and "Account Verwaltung" in page.text and "Abmelden" in page.text


async def test_unknown_tenant_is_a_404_page(client: httpx.AsyncClient) -> None:
    for path in ("/t/no-such-tenant/account/", "/t/NOT_A_SLUG/account/callback"):
        answer = await client.get(path)
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")


# --- the built-in clients -------------------------------------------------------------------------


async def test_every_new_tenant_has_both_console_clients(ctx: Context, tenant: str) -> None:
    async with ctx.db.transaction() as session:
        clients = (
            await session.scalars(
                select(ClientRow).where(ClientRow.client_id.in_([ACCOUNT.client_id, ADMIN.client_id]))
            )
        ).all()
    by_tenant = {(c.tenant_id, c.client_id): c for c in clients}
    async with ctx.db.transaction() as session:
        row = await TenantRepo(session).get(tenant)
    assert row is not None
    for console in (ACCOUNT, ADMIN):
        client = by_tenant[(row.id, console.client_id)]
        assert client.require_client_secret is False and client.allow_no_pkce is False
        assert client.allowed_grant_types == ["authorization_code"]
        assert client.redirect_uris == [f"{PUBLIC_URL}/t/{tenant}{console.path}/callback"]


async def test_console_clients_cannot_be_deleted_or_taken(
    ctx: Context, client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    base = f"/api/admin/v1/tenants/{tenant}/clients"
    before = await snapshot(ctx)
    assert_problem(await client.delete(f"{base}/{ADMIN.client_id}", headers=admin), 409, "conflict")
    other = await client.post(base, headers=admin, json={"clientId": ADMIN.client_id})
    assert other.status_code == 409
    moved = await client.patch(
        f"{base}/{ACCOUNT.client_id}", headers=admin, json={"redirectUris": ["https://evil.example/cb"]}
    )
    assert_problem(moved, 422, "validation-error")
    assert await snapshot(ctx) == before
    # what the server does not manage, an administrator may set
    restricted = await client.patch(
        f"{base}/{ACCOUNT.client_id}", headers=admin, json={"requireConsent": True}
    )
    assert restricted.status_code == 200 and restricted.json()["requireConsent"] is True


async def test_start_up_repairs_the_console_clients_when_the_public_url_changes(
    ctx: Context, tenant: str
) -> None:
    moved = Context.create(ctx.settings.model_copy(update={"public_url": "https://id.example.com"}))
    try:
        assert await ensure_console_clients(moved) >= 2
        assert await ensure_console_clients(moved) == 0  # nothing left to do
        async with ctx.db.transaction() as session:
            [account] = [
                c
                for c in (
                    await session.scalars(select(ClientRow).where(ClientRow.client_id == ACCOUNT.client_id))
                ).all()
                if c.redirect_uris[0].endswith(f"/t/{tenant}/account/callback")
            ]
        assert account.redirect_uris == [f"https://id.example.com/t/{tenant}/account/callback"]
    finally:
        await moved.db.dispose()
        await ensure_console_clients(ctx)
