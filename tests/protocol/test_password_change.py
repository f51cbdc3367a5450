"""``mustChangePassword`` at the sign-in page (Keycloak's UPDATE_PASSWORD required action) and at
the password grant, over HTTP: the page instead of a session, its rules, its token, the change,
the session and the code afterwards, and the database and audit trail at every step."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from pforte.app import create_app
from pforte.domain.clock import utcnow
from pforte.services import users as user_service
from pforte.services.authorization import password_change
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.store.tables import AuditEventRow, SessionRow, UserRow
from tests.conftest import audit_events, make_tenant, snapshot
from tests.protocol.flow import PASSWORD, REDIRECT, App, form_of, make_app, query_of

pytestmark = pytest.mark.anyio

NEW = "a new and long passphrase"
EXPIRED = "Please sign in again to choose your new password."
ROPC = {"allowed_grant_types": ["authorization_code", "password"], "allow_ropc": True}


@dataclass(frozen=True)
class Stored:
    password_hash: str
    must_change_password: bool
    version: int
    sessions: int


async def stored(ctx: Context, app: App) -> Stored:
    async with ctx.db.transaction() as session:
        row = await session.scalar(select(UserRow).where(UserRow.id == app.user_id))
        count = await session.scalar(
            select(func.count()).select_from(SessionRow).where(SessionRow.user_id == app.user_id)
        )
    assert row is not None and row.password_hash is not None and count is not None
    return Stored(row.password_hash, row.must_change_password, row.version, count)


async def events_of(ctx: Context, app: App) -> list[str]:
    """The names of the events about the user, in order."""
    async with ctx.db.transaction() as session:
        rows = await session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.target_id == str(app.user_id))
            .order_by(AuditEventRow.created_at)
        )
        return [row.name for row in rows]


async def change_page(
    http: httpx.AsyncClient, app: App, **extra: str
) -> tuple[httpx.Response, dict[str, str]]:
    """Sign in with the old password: the new-password page and the authorization request."""
    params = app.authorize_params(**extra)
    page = await app.sign_in(http, params)
    assert page.status_code == 200, page.text
    return page, params


async def send(http: httpx.AsyncClient, page: httpx.Response, **values: str) -> httpx.Response:
    """The page's form, as a browser sends it, with ``values`` typed in (or replacing a field)."""
    action, fields = form_of(page.text)
    fields.update(values)
    return await http.post(action, data=fields)


def alert(page: httpx.Response) -> str:
    start = page.text.index('role="alert">') + len('role="alert">')
    return html.unescape(page.text[start : page.text.index("</p>", start)])


def is_sign_in_page(page: httpx.Response, tenant: str) -> bool:
    return form_of(page.text)[0] == f"/t/{tenant}/sign-in" and 'name="username"' in page.text


@asynccontextmanager
async def other_browser(
    ctx: Context, cookies: httpx.Cookies | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (or with ``cookies``: the same one) on an app around ``ctx``."""
    transport = httpx.ASGITransport(app=create_app(ctx.settings, ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=cookies) as http:
        yield http


async def password_grant(http: httpx.AsyncClient, app: App, password: str) -> httpx.Response:
    form = {"grant_type": "password", "username": app.username, "password": password, "scope": "openid"}
    return await http.post(f"{app.base}/token", data=form, auth=(app.client_id, app.secret or ""))


# the page instead of a session -----------------------------------------------------------------


async def test_a_flagged_user_is_asked_for_a_new_password_and_gets_no_session(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, must_change_password=True)
    before = await stored(ctx, app)
    page, _ = await change_page(client, app)
    assert page.headers["content-type"].startswith("text/html")
    assert "location" not in page.headers
    assert "pforte_session" not in page.headers.get("set-cookie", "")
    assert page.headers["cache-control"] == "no-store"
    assert "form-action 'self' https://app.example.com;" in page.headers["content-security-policy"]
    assert "<h1>Choose a new password</h1>" in page.text
    assert f"You are signing in as {app.username}. Choose a new password to continue to Shop." in page.text
    action, fields = form_of(page.text)
    assert action == f"/t/{tenant}/password"
    assert set(fields) == {"csrf_token", "request", "change"}
    assert fields["csrf_token"] == client.cookies["pforte_csrf"]
    for name in ("new_password", "new_password_repeat"):
        assert f'name="{name}" type="password" autocomplete="new-password"' in page.text
    assert await stored(ctx, app) == before  # no session, nothing changed
    assert await audit_events(ctx, "user.signed_in", str(app.user_id)) == []
    assert await audit_events(ctx, "user.sign_in_failed", app.username) == []


async def test_a_wrong_password_of_a_flagged_user_is_a_plain_failure(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, must_change_password=True)
    wrong = await app.sign_in(client, app.authorize_params(), password="not the password")
    assert wrong.status_code == 200 and is_sign_in_page(wrong, tenant)
    assert alert(wrong) == "Invalid username or password."
    assert 'name="change"' not in wrong.text


# the change --------------------------------------------------------------------------------------


async def test_a_new_password_starts_the_session_and_the_code_is_exchanged(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, must_change_password=True, **ROPC)
    before = await stored(ctx, app)
    page, params = await change_page(client, app)
    answer = await send(client, page, new_password=NEW, new_password_repeat=NEW)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(REDIRECT + "?")
    got = query_of(answer.headers["location"])
    assert (set(got), got["state"]) == ({"code", "state", "iss"}, params["state"])
    assert "pforte_session=" in answer.headers["set-cookie"]
    exchanged = await app.exchange(client, got["code"])
    assert exchanged.status_code == 200, exchanged.text
    assert exchanged.json()["scope"] == "openid profile email"

    after = await stored(ctx, app)
    assert (after.must_change_password, after.version, after.sessions) == (False, before.version + 1, 1)
    assert ctx.passwords.verify(after.password_hash, NEW)
    assert not ctx.passwords.verify(after.password_hash, PASSWORD)
    assert await events_of(ctx, app) == ["user.created", "user.password_changed", "user.signed_in"]
    (changed,) = await audit_events(ctx, "user.password_changed", str(app.user_id))
    assert (changed.actor, changed.actor_tenant, changed.target_type, changed.changes) == (
        f"user:{app.user_id}",
        tenant,
        "user",
        {"by": "user"},
    )
    (signed_in,) = await audit_events(ctx, "user.signed_in", str(app.user_id))
    assert (signed_in.actor, signed_in.changes) == (
        f"user:{app.user_id}",
        {"username": app.username, "clientId": app.client_id},
    )
    assert signed_in.created_at >= changed.created_at

    # the new password works, the old one does not: at the page and at the password grant
    async with other_browser(ctx) as fresh:
        old = await app.sign_in(fresh, app.authorize_params(), password=PASSWORD)
        assert alert(old) == "Invalid username or password."
        again = await app.sign_in(fresh, app.authorize_params(), password=NEW)
        assert again.status_code == 303 and "code" in query_of(again.headers["location"])
    assert (await password_grant(client, app, PASSWORD)).json()["error"] == "invalid_grant"
    assert (await password_grant(client, app, NEW)).status_code == 200


async def test_the_change_continues_to_consent_when_the_client_asks_for_it(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, must_change_password=True, require_consent=True)
    page, _ = await change_page(client, app)
    consent = await send(client, page, new_password=NEW, new_password_repeat=NEW)
    assert consent.status_code == 200
    assert "wants to access your account" in consent.text
    assert form_of(consent.text)[0] == f"/t/{tenant}/consent"
    assert "pforte_session=" in consent.headers["set-cookie"]
    allowed = await send(client, consent, decision="allow")
    assert allowed.status_code == 303 and "code" in query_of(allowed.headers["location"])


# the rules: 422, the page again, nothing changed --------------------------------------------------


@pytest.mark.parametrize(
    ("new", "repeat", "message"),
    [
        (NEW, NEW + "!", "The two new passwords are not the same."),
        ("short", "short", "The new password must be at least 8 and at most 256 characters long."),
        ("x" * 257, "x" * 257, "The new password must be at least 8 and at most 256 characters long."),
        ("", "", "The new password must be at least 8 and at most 256 characters long."),
        (PASSWORD, PASSWORD, "The new password must differ from your current one."),
    ],
)
async def test_a_new_password_breaking_a_rule_shows_the_page_again_and_changes_nothing(
    client: httpx.AsyncClient, ctx: Context, tenant: str, new: str, repeat: str, message: str
) -> None:
    app = await make_app(ctx, tenant, must_change_password=True)
    page, _ = await change_page(client, app)
    before = await snapshot(ctx)
    refused = await send(client, page, new_password=new, new_password_repeat=repeat)
    assert refused.status_code == 422, refused.text
    assert alert(refused) == message
    assert "pforte_session" not in refused.headers.get("set-cookie", "")
    assert await snapshot(ctx) == before
    fields = form_of(refused.text)[1]
    assert fields["change"] == form_of(page.text)[1]["change"]  # the same token, the same 5 minutes
    assert set(fields) == {"csrf_token", "request", "change"}  # the passwords are never sent back
    # the page again still works
    answer = await send(client, refused, new_password=NEW, new_password_repeat=NEW)
    assert answer.status_code == 303, answer.text


async def test_the_page_speaks_german(client: httpx.AsyncClient, ctx: Context, tenant: str) -> None:
    app = await make_app(ctx, tenant, must_change_password=True)
    page, _ = await change_page(client, app, ui_locales="de")
    assert "<h1>Neues Passwort festlegen</h1>" in page.text
    refused = await send(client, page, new_password=NEW, new_password_repeat="anders")
    assert alert(refused) == "Die beiden neuen Passwörter stimmen nicht überein."


# the token: anything but a good one is the sign-in page again -------------------------------------


async def refused_back_to_sign_in(
    http: httpx.AsyncClient, ctx: Context, tenant: str, page: httpx.Response, **values: str
) -> None:
    before = await snapshot(ctx)
    answer = await send(http, page, **{"new_password": NEW, "new_password_repeat": NEW, **values})
    assert answer.status_code == 200, answer.text
    assert is_sign_in_page(answer, tenant)
    assert alert(answer) == EXPIRED
    assert "pforte_session" not in answer.headers.get("set-cookie", "")
    assert await snapshot(ctx) == before


def altered(token: str) -> str:
    """The token with one character in the middle changed."""
    middle = len(token) // 2
    return token[:middle] + ("B" if token[middle] != "B" else "C") + token[middle + 1 :]


@pytest.mark.parametrize("kind", ["missing", "garbage", "altered", "another purpose"])
async def test_a_forged_token_goes_back_to_sign_in(
    client: httpx.AsyncClient, ctx: Context, tenant: str, kind: str
) -> None:
    app = await make_app(ctx, tenant, must_change_password=True)
    page, _ = await change_page(client, app)
    fields = form_of(page.text)[1]
    token = {
        "missing": "",
        "garbage": "bm90IGEgdG9rZW4",
        "altered": altered(fields["change"]),
        # sealed by this server for this browser and tenant, but as the pending request
        "another purpose": fields["request"],
    }[kind]
    await refused_back_to_sign_in(client, ctx, tenant, page, change=token)


async def test_an_expired_token_goes_back_to_sign_in(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, must_change_password=True)
    page, _ = await change_page(client, app)
    # five minutes later (the pending request itself lives ten), in the same browser
    later = dataclasses.replace(ctx, clock=lambda: utcnow() + timedelta(seconds=password_change.LIFETIME + 2))
    async with other_browser(later, client.cookies) as same:
        await refused_back_to_sign_in(same, ctx, tenant, page)
    again = await app.sign_in(client, app.authorize_params())
    assert (await send(client, again, new_password=NEW, new_password_repeat=NEW)).status_code == 303


async def test_a_token_from_another_browser_or_tenant_goes_back_to_sign_in(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, must_change_password=True)
    elsewhere = await make_app(ctx, await make_tenant(ctx), must_change_password=True)
    page, _ = await change_page(client, app)
    stolen = form_of(page.text)[1]["change"]
    async with other_browser(ctx) as thief:  # another CSRF cookie: the token does not open there
        own, _ = await change_page(thief, await make_app(ctx, tenant, must_change_password=True))
        await refused_back_to_sign_in(thief, ctx, tenant, own, change=stolen)
    # the same browser, the other tenant's token (and its user) at this tenant's form
    foreign, _ = await change_page(client, elsewhere)
    await refused_back_to_sign_in(client, ctx, tenant, page, change=form_of(foreign.text)[1]["change"])


async def test_a_token_is_void_once_the_user_changed(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, must_change_password=True)
    # an administrator sets another password (still to be changed) while the page is open
    page, _ = await change_page(client, app)
    await user_service.set_password(
        ctx, SYSTEM_PRINCIPAL, tenant, app.username, "from the admin", must_change=True
    )
    await refused_back_to_sign_in(client, ctx, tenant, page)
    # the change is done once: the same form sent again (a replay) finds the user changed
    page = await app.sign_in(client, app.authorize_params(), password="from the admin")
    assert (await send(client, page, new_password=NEW, new_password_repeat=NEW)).status_code == 303
    await refused_back_to_sign_in(
        client, ctx, tenant, page, new_password=NEW + "2", new_password_repeat=NEW + "2"
    )
    assert len(await audit_events(ctx, "user.password_changed", str(app.user_id))) == 2  # admin's, user's
    # a disabled user's token is void too
    flagged = await make_app(ctx, tenant, must_change_password=True)
    async with other_browser(ctx) as fresh:  # this one has a session now
        page, _ = await change_page(fresh, flagged)
        await user_service.update_user(
            ctx, SYSTEM_PRINCIPAL, tenant, flagged.username, user_service.UserChange(enabled=False)
        )
        await refused_back_to_sign_in(fresh, ctx, tenant, page)


async def test_the_form_needs_the_browsers_csrf_token(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, must_change_password=True)
    page, _ = await change_page(client, app)
    before = await snapshot(ctx)
    forged = await send(client, page, csrf_token="not-the-cookie", new_password=NEW, new_password_repeat=NEW)
    assert forged.status_code == 403
    assert await snapshot(ctx) == before


# the password grant -------------------------------------------------------------------------------


async def test_the_password_grant_refuses_a_flagged_user_until_the_change(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, must_change_password=True, **ROPC)
    before = await snapshot(ctx)
    refused = await password_grant(client, app, PASSWORD)
    assert (refused.status_code, refused.json()) == (
        400,
        {
            "error": "invalid_grant",
            "error_description": "the user must change their password at the sign-in page first",
        },
    )
    assert refused.headers["cache-control"] == "no-store"
    assert await snapshot(ctx) == before  # nothing issued, nothing audited
    wrong = await password_grant(client, app, "not the password")
    assert wrong.json()["error_description"] == "the username or password is not valid"  # tells nothing
    page, _ = await change_page(client, app)
    assert (await send(client, page, new_password=NEW, new_password_repeat=NEW)).status_code == 303
    granted = await password_grant(client, app, NEW)
    assert granted.status_code == 200, granted.text
    assert len(await audit_events(ctx, "password_grant.used", str(app.user_id))) == 1
