"""RFC 6749 §4.1 + OIDC Core §3.1 + RFC 7636 over HTTP: sign in through the real form, the
code on the redirect, the exchange at /token, the ID token verified through the JWKS."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from pforte.services import roles as role_service
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.store.tables import SessionRow
from tests.conftest import audit_events, make_tenant
from tests.protocol.flow import PASSWORD, REDIRECT, form_of, make_app, query_of

pytestmark = pytest.mark.anyio


async def verified(http: httpx.AsyncClient, tenant: str, token: str) -> dict[str, object]:
    keys = KeySet.import_key_set((await http.get(f"/t/{tenant}/jwks")).json())
    return dict(jwt.decode(token, keys).claims)


async def test_confidential_client_signs_a_user_in_and_gets_tokens(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    code, params = await app.code(client)
    answer = await app.exchange(client, code)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert (body["token_type"], body["scope"], body["expires_in"]) == ("Bearer", "openid profile email", 300)
    access = await verified(client, tenant, body["access_token"])
    assert access["sub"] == str(app.user_id)
    assert (access["client_id"], access["scope"], access["roles"], access["client_roles"]) == (
        app.client_id,
        "openid profile email",
        [],
        [],
    )
    id_token = await verified(client, tenant, body["id_token"])
    assert id_token["iss"] == f"http://127.0.0.1:8000/t/{tenant}"
    assert (id_token["sub"], id_token["aud"], id_token["nonce"]) == (
        str(app.user_id),
        app.client_id,
        params["nonce"],
    )
    assert (
        id_token["preferred_username"] == app.username and id_token["email"] == f"{app.username}@example.com"
    )
    assert {"auth_time", "at_hash", "sid", "iat", "exp"} <= set(id_token)


async def test_the_redirect_carries_code_state_and_iss(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    params = app.authorize_params()
    answer = await app.sign_in(client, params)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    got = query_of(location)
    assert set(got) == {"code", "state", "iss"}
    assert (got["state"], got["iss"]) == (params["state"], f"http://127.0.0.1:8000/t/{tenant}")


async def test_public_client_with_pkce_and_no_secret(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, public=True)
    code, _ = await app.code(client)
    answer = await app.exchange(client, code)
    assert answer.status_code == 200, answer.text


async def test_a_code_is_used_once_and_its_replay_revokes_the_token(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    code, _ = await app.code(client)
    first = await app.exchange(client, code)
    assert first.status_code == 200
    token = first.json()["access_token"]
    auth = (app.client_id, app.secret or "")
    assert (await client.post(f"/t/{tenant}/introspect", data={"token": token}, auth=auth)).json()[
        "active"
    ] is True
    second = await app.exchange(client, code)
    assert (second.status_code, second.json()["error"]) == (400, "invalid_grant")
    assert (await client.post(f"/t/{tenant}/introspect", data={"token": token}, auth=auth)).json() == {
        "active": False
    }


async def test_a_wrong_password_shows_the_form_again_with_one_neutral_message(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    params = app.authorize_params()
    wrong = await app.sign_in(client, params, password="not the password")
    unknown = await app.sign_in(client, params, username="nobody-at-all")
    assert wrong.status_code == unknown.status_code == 200
    assert "Invalid username or password." in wrong.text and "Invalid username or password." in unknown.text
    assert "pforte_session" not in wrong.headers.get("set-cookie", "")


async def test_unknown_client_and_unregistered_redirect_show_a_page_and_never_redirect(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    for params in (
        app.authorize_params(client_id="no-such-app"),
        app.authorize_params(redirect_uri="https://evil.example.com/cb"),
        app.authorize_params(redirect_uri=""),
    ):
        page = await client.get(f"/t/{tenant}/authorize", params=params)
        assert page.status_code == 400, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert "location" not in page.headers


async def test_errors_after_the_redirect_is_trusted_go_to_it_with_state_and_iss(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    for extra, error in (
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "", "code_challenge_method": ""}, "invalid_request"),
        ({"scope": "openid users:write"}, "invalid_scope"),
        ({"prompt": "none"}, "login_required"),
    ):
        params = app.authorize_params(**extra)
        answer = await client.get(f"/t/{tenant}/authorize", params=params)
        assert answer.status_code == 303, (extra, answer.text)
        got = query_of(answer.headers["location"])
        assert (got["error"], got["state"], got["iss"]) == (
            error,
            params["state"],
            f"http://127.0.0.1:8000/t/{tenant}",
        )


async def test_the_form_without_its_csrf_cookie_is_refused(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    page = await client.get(f"/t/{tenant}/authorize", params=app.authorize_params())
    action, fields = form_of(page.text)
    client.cookies.clear()
    fields.update(username=app.username, password=PASSWORD)
    answer = await client.post(action, data=fields)
    assert answer.status_code == 403
    assert "location" not in answer.headers


# --- userinfo (OIDC Core §5.3) -----------------------------------------------------------------


async def test_userinfo_answers_the_claims_of_the_tokens_scopes(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    code, _ = await app.code(client, scope="openid email")
    token = (await app.exchange(client, code)).json()["access_token"]
    for answer in (
        await client.get(f"/t/{tenant}/userinfo", headers={"Authorization": f"Bearer {token}"}),
        await client.post(f"/t/{tenant}/userinfo", data={"access_token": token}),
    ):
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "sub": str(app.user_id),
            "email": f"{app.username}@example.com",
            "email_verified": False,
        }


async def test_userinfo_errors_are_rfc6750(client: httpx.AsyncClient, ctx: Context, tenant: str) -> None:
    app = await make_app(ctx, tenant)
    code, _ = await app.code(client, scope="profile")
    no_openid = (await app.exchange(client, code)).json()["access_token"]
    missing = await client.get(f"/t/{tenant}/userinfo")
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, 'Bearer realm="pforte"')
    bad = await client.get(f"/t/{tenant}/userinfo", headers={"Authorization": "Bearer nope"})
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_token")
    assert bad.headers["www-authenticate"] == 'Bearer realm="pforte", error="invalid_token"'
    scoped = await client.get(f"/t/{tenant}/userinfo", headers={"Authorization": f"Bearer {no_openid}"})
    assert (scoped.status_code, scoped.json()["error"]) == (403, "insufficient_scope")
    assert 'scope="openid"' in scoped.headers["www-authenticate"]
    twice = await client.post(
        f"/t/{tenant}/userinfo",
        data={"access_token": no_openid},
        headers={"Authorization": f"Bearer {no_openid}"},
    )
    assert (twice.status_code, twice.json()["error"]) == (400, "invalid_request")


# --- the session, prompt, max_age ---------------------------------------------------------------


async def test_a_signed_in_browser_gets_a_code_without_the_form_and_prompt_none_works(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    await app.code(client)
    params = app.authorize_params(prompt="none")
    silent = await client.get(f"/t/{tenant}/authorize", params=params)
    assert silent.status_code == 303
    assert "code" in query_of(silent.headers["location"])
    # prompt=login shows the form although a session exists
    forced = await client.get(f"/t/{tenant}/authorize", params=app.authorize_params(prompt="login"))
    assert forced.status_code == 200 and 'name="password"' in forced.text
    # max_age=0: the session is older than that, so the user signs in again
    aged = await client.get(f"/t/{tenant}/authorize", params=app.authorize_params(max_age="0"))
    assert aged.status_code == 200 and 'name="password"' in aged.text


async def test_disabling_the_user_ends_the_session(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    await app.code(client)
    await user_service.update_user(
        ctx, SYSTEM_PRINCIPAL, tenant, app.username, user_service.UserChange(enabled=False)
    )
    answer = await client.get(f"/t/{tenant}/authorize", params=app.authorize_params(prompt="none"))
    assert query_of(answer.headers["location"])["error"] == "login_required"
    async with ctx.db.transaction() as session:
        left = (await session.scalars(select(SessionRow).where(SessionRow.user_id == app.user_id))).all()
    assert left == []
    # and signing in again is refused with the neutral message
    again = await app.sign_in(client, app.authorize_params())
    assert again.status_code == 200 and "Invalid username or password." in again.text


async def test_a_session_of_one_tenant_is_nothing_at_another(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    await app.code(client)
    other_tenant = await make_tenant(ctx)
    other = await make_app(ctx, other_tenant)
    # replay the first tenant's session cookie on the second tenant's path
    cookie = next(c for c in client.cookies.jar if c.name == "pforte_session")
    client.cookies.set("pforte_session", cookie.value or "", path=f"/t/{other_tenant}")
    answer = await client.get(f"/t/{other_tenant}/authorize", params=other.authorize_params(prompt="none"))
    assert query_of(answer.headers["location"])["error"] == "login_required"


async def test_restrict_to_role_refuses_a_user_without_it(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name="staff", description=None, permissions=[]
    )
    app = await make_app(ctx, tenant, restrict_to_role="staff")
    params = app.authorize_params()
    denied = await app.sign_in(client, params)
    assert denied.status_code == 403
    assert "You do not have access to Shop" in denied.text
    action, _ = form_of(denied.text) if "<form" in denied.text else ("", {})
    del action
    link = re.search(r'href="(https://app\.example\.com/cb\?[^"]+)"', denied.text)
    assert link is not None
    got = query_of(html.unescape(link[1]))
    assert (got["error"], got["state"]) == ("access_denied", params["state"])
    await user_service.add_role(ctx, SYSTEM_PRINCIPAL, tenant, app.username, "staff")
    allowed = await client.get(f"/t/{tenant}/authorize", params=app.authorize_params())
    assert allowed.status_code == 303 and "code" in query_of(allowed.headers["location"])


# --- consent -------------------------------------------------------------------------------------


async def test_consent_is_asked_remembered_and_asked_again_for_more(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, require_consent=True)
    page = await app.sign_in(client, app.authorize_params(scope="openid email"))
    assert page.status_code == 200 and "wants to access your account" in page.text
    assert "Your e-mail address" in page.text and 'name="remember"' in page.text
    action, fields = form_of(page.text)
    allowed = await client.post(action, data={**fields, "decision": "allow", "remember": "yes"})
    assert allowed.status_code == 303 and "code" in query_of(allowed.headers["location"])
    assert len(await audit_events(ctx, "consent.given", app.client_id)) == 1
    # remembered: no page for the same scopes
    again = await client.get(f"/t/{tenant}/authorize", params=app.authorize_params(scope="openid email"))
    assert again.status_code == 303
    # more scopes: asked again; denied → access_denied
    more = await client.get(
        f"/t/{tenant}/authorize", params=app.authorize_params(scope="openid email profile")
    )
    assert more.status_code == 200 and "wants to access your account" in more.text
    action, fields = form_of(more.text)
    denied = await client.post(action, data={**fields, "decision": "deny"})
    assert query_of(denied.headers["location"])["error"] == "access_denied"
    # prompt=none with consent missing: consent_required
    silent = await client.get(
        f"/t/{tenant}/authorize", params=app.authorize_params(scope="openid email profile", prompt="none")
    )
    assert query_of(silent.headers["location"])["error"] == "consent_required"


async def test_no_remember_checkbox_without_allow_remember_consent(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, require_consent=True, allow_remember_consent=False)
    page = await app.sign_in(client, app.authorize_params())
    assert 'name="remember"' not in page.text
    action, fields = form_of(page.text)
    allowed = await client.post(action, data={**fields, "decision": "allow", "remember": "yes"})
    assert allowed.status_code == 303
    assert await audit_events(ctx, "consent.given", app.client_id) == []
    assert (await client.get(f"/t/{tenant}/authorize", params=app.authorize_params())).status_code == 200


async def test_repeated_failed_sign_ins_are_slowed_then_refused_for_a_while(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    params = app.authorize_params()
    # limits' sliding window counter weighs the previous minute's failures: near a window's
    # edge the 429 may come a few attempts later than the 11th, never before it
    statuses = [(await app.sign_in(client, params, password=f"wrong {i}")).status_code for i in range(10)]
    assert statuses == [200] * 10
    assert await until_refused(lambda i: app.sign_in(client, params, password=f"more wrong {i}"))
    blocked = await app.sign_in(client, params)  # the right password, while the account is blocked
    assert blocked.status_code == 429
    assert "Too many" in blocked.text or "too many" in blocked.text
    assert "pforte_session" not in blocked.headers.get("set-cookie", "")
    # an unknown account is blocked the same way: the answer tells nothing about existence
    ghost = [
        (await app.sign_in(client, params, username="ghost-user", password="x" * 12)).status_code
        for _ in range(10)
    ]
    assert ghost == [200] * 10
    assert await until_refused(
        lambda i: app.sign_in(client, params, username="ghost-user", password=f"y{i}" * 6)
    )


async def until_refused(attempt: Callable[[int], Awaitable[httpx.Response]], most: int = 6) -> bool:
    """Whether one of ``most`` further failures is answered 429 (and none of them signs in)."""
    for i in range(most):
        answer = await attempt(i)
        assert answer.status_code in (200, 429)
        if answer.status_code == 429:
            return True
    return False


async def test_a_users_access_token_ends_with_the_user(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    code, _ = await app.code(client)
    token = (await app.exchange(client, code)).json()["access_token"]
    auth = (app.client_id, app.secret or "")
    assert (await client.post(f"{app.base}/introspect", data={"token": token}, auth=auth)).json()[
        "active"
    ] is True
    await user_service.update_user(
        ctx, SYSTEM_PRINCIPAL, tenant, app.username, user_service.UserChange(enabled=False)
    )
    assert (await client.post(f"{app.base}/introspect", data={"token": token}, auth=auth)).json() == {
        "active": False
    }
    info = await client.get(f"{app.base}/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert (info.status_code, info.json()["error"]) == (401, "invalid_token")
    await user_service.update_user(
        ctx, SYSTEM_PRINCIPAL, tenant, app.username, user_service.UserChange(enabled=True)
    )
    assert (await client.post(f"{app.base}/introspect", data={"token": token}, auth=auth)).json()[
        "active"
    ] is True
    await user_service.delete_user(ctx, SYSTEM_PRINCIPAL, tenant, app.username)
    assert (await client.post(f"{app.base}/introspect", data={"token": token}, auth=auth)).json() == {
        "active": False
    }


async def test_the_language_switch_of_a_page_shown_after_a_post_asks_authorize_again(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    """The sign-in form's answer (a failed sign-in) is a POST's page: its language links cannot
    add ``ui_locales`` to the POST-only route; they lead to /authorize with the same request."""
    app = await make_app(ctx, tenant)
    params = app.authorize_params()
    failed = await app.sign_in(client, params, password="not the password")
    assert failed.status_code == 200
    links = dict(re.findall(r'<a href="([^"]+)" hreflang="(en|de)"', failed.text))
    german = html.unescape(next(href for href, lang in links.items() if lang == "de"))
    assert german.startswith(f"/t/{tenant}/authorize?")
    assert query_of(german) == {**params, "ui_locales": "de"}
    page = await client.get(german)
    assert page.status_code == 200 and 'lang="de"' in page.text and "Anmelden" in page.text
