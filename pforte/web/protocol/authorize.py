"""``/t/{slug}/authorize`` and the pages it leads to, as HTTP: parse, call the service, render.

Headers and cookies are ``web.pages.http``'s; redirects are 303 (a POSTed form becomes a GET
at the client, RFC 9110 §15.4.4). Cookies: ``pforte_session`` (the sign-in session) and
``pforte_csrf`` (the double-submit token the forms carry).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pforte.observability import set_tenant
from pforte.services import sessions
from pforte.services.authorization import endpoint, password_change
from pforte.services.authorization import logout as logout_service
from pforte.services.authorization import sign_in as sign_in_service
from pforte.services.authorization.endpoint import Browser
from pforte.services.authorization.outcomes import (
    Answer,
    ConsentPage,
    DeniedPage,
    ErrorPage,
    LogoutOutcome,
    LogoutPage,
    Outcome,
    PasswordChangePage,
    Redirect,
    SignedOutPage,
    SignInPage,
)
from pforte.services.context import Context
from pforte.web.pages import negotiate_locale, render
from pforte.web.pages.http import (
    CSRF_COOKIE,
    BadForm,
    browser_of,
    delete_cookie,
    page_headers,
    read_params,
    set_cookie,
)
from pforte.web.pages.render import SIGN_IN_ERRORS
from pforte.web.pages.scopes import describe

STATIC_BASE = "/static"
SignInForm = Callable[[Context, str, Mapping[str, str], Browser], Awaitable[Answer]]


async def authorize(request: Request) -> Response:
    ctx, slug = request.app.state.ctx, request.path_params["slug"]
    set_tenant(slug)
    try:
        params = await read_params(request)
    except BadForm as exc:
        return _page(request, ctx, slug, {}, ErrorPage(400, "error.invalid_request", str(exc)))
    browser, new_csrf = browser_of(request, ctx)
    outcome = await endpoint.authorize(ctx, slug, params, browser)
    return _page(request, ctx, slug, params, outcome, csrf=browser.csrf, new_csrf=new_csrf)


async def sign_in(request: Request) -> Response:
    return await _signing_in(request, sign_in_service.sign_in)


async def password(request: Request) -> Response:
    """The new-password form of a user who must change theirs (``services…password_change``)."""
    return await _signing_in(request, password_change.change_password)


async def _signing_in(request: Request, service: SignInForm) -> Response:
    """A form that may start a session: parse, call ``service``, render, set the cookie."""
    ctx, slug = request.app.state.ctx, request.path_params["slug"]
    set_tenant(slug)
    try:
        form = await read_params(request)
    except BadForm as exc:
        return _page(request, ctx, slug, {}, ErrorPage(400, "error.invalid_request", str(exc)))
    browser, new_csrf = browser_of(request, ctx)
    answer = await service(ctx, slug, form, browser)
    response = _page(request, ctx, slug, {}, answer.outcome, csrf=browser.csrf, new_csrf=new_csrf)
    if answer.session_cookie is not None:
        set_cookie(
            response, ctx, f"/t/{slug}", sessions.COOKIE, answer.session_cookie, ctx.settings.session_lifetime
        )
    return response


async def consent(request: Request) -> Response:
    ctx, slug = request.app.state.ctx, request.path_params["slug"]
    set_tenant(slug)
    try:
        form = await read_params(request)
    except BadForm as exc:
        return _page(request, ctx, slug, {}, ErrorPage(400, "error.invalid_request", str(exc)))
    browser, new_csrf = browser_of(request, ctx)
    outcome = await endpoint.consent(ctx, slug, form, browser)
    return _page(request, ctx, slug, {}, outcome, csrf=browser.csrf, new_csrf=new_csrf)


async def logout(request: Request) -> Response:
    """RP-Initiated Logout: GET or POST with the RP's parameters, or the confirmation form."""
    ctx, slug = request.app.state.ctx, request.path_params["slug"]
    set_tenant(slug)
    try:
        params = await read_params(request)
    except BadForm as exc:
        return _page(request, ctx, slug, {}, ErrorPage(400, "error.invalid_request", str(exc)))
    browser, new_csrf = browser_of(request, ctx)
    if request.method == "POST" and ("request" in params or "decision" in params):  # the confirmation
        outcome = await logout_service.confirm(ctx, slug, params, browser)
    else:
        outcome = await logout_service.logout(ctx, slug, params, browser)
    response = _logout_page(request, ctx, slug, outcome, csrf=browser.csrf, new_csrf=new_csrf)
    if not isinstance(outcome, (ErrorPage, LogoutPage)):
        delete_cookie(response, ctx, f"/t/{slug}", sessions.COOKIE)
    return response


def _logout_page(
    request: Request, ctx: Context, slug: str, outcome: LogoutOutcome, *, csrf: str, new_csrf: str | None
) -> Response:
    if isinstance(outcome, (ErrorPage, Redirect)):
        return _page(request, ctx, slug, {}, outcome)
    headers = page_headers()
    locale = _locale(request, {}, outcome.ui_locales)
    common = {
        "static_base": STATIC_BASE,
        "switch_locale_urls": _switch_urls(slug, {}),
        "tenant_name": outcome.tenant_name,
    }
    if isinstance(outcome, SignedOutPage):
        return HTMLResponse(render("signed_out.html", locale=locale, **common), headers=headers)
    html = render(
        "logout.html",
        locale=locale,
        action=f"/t/{slug}/logout",
        csrf_token=csrf,
        hidden={"request": outcome.pending},
        **common,
    )
    response = HTMLResponse(html, headers=headers)
    if new_csrf is not None:
        set_cookie(response, ctx, f"/t/{slug}", CSRF_COOKIE, new_csrf, None)
    return response


# --- helpers ------------------------------------------------------------------------------------


def _locale(request: Request, params: Mapping[str, str], ui_locales: tuple[str, ...] = ()) -> str:
    wanted = ui_locales or tuple(params.get("ui_locales", "").split())
    return negotiate_locale(request.headers.get("accept-language"), wanted)


def _switch_urls(slug: str, params: Mapping[str, str]) -> dict[str, str]:
    base = f"/t/{slug}/authorize"
    if not params:
        return {"en": "?ui_locales=en", "de": "?ui_locales=de"}
    return {lang: f"{base}?{urlencode({**params, 'ui_locales': lang})}" for lang in ("en", "de")}


def _page(
    request: Request,
    ctx: Context,
    slug: str,
    params: Mapping[str, str],
    outcome: Outcome,
    *,
    csrf: str = "",
    new_csrf: str | None = None,
) -> Response:
    headers = page_headers()
    if isinstance(outcome, Redirect):
        return RedirectResponse(outcome.location, status_code=303, headers=headers)
    common = {"static_base": STATIC_BASE, "switch_locale_urls": _switch_urls(slug, params)}
    if isinstance(outcome, ErrorPage):
        locale = _locale(request, params)
        html = render(
            "error.html",
            locale=locale,
            tenant_name=None,
            status=outcome.status,
            title_key=outcome.title_key,
            detail=outcome.detail,
            **common,
        )
        return HTMLResponse(html, status_code=outcome.status, headers=headers)
    locale = _locale(request, params, outcome.ui_locales)
    if isinstance(outcome, DeniedPage):
        html = render(
            "denied.html",
            locale=locale,
            tenant_name=outcome.tenant_name,
            client_name=outcome.client_name,
            continue_url=outcome.continue_url,
            **common,
        )
        return HTMLResponse(html, status_code=403, headers=headers)
    headers = page_headers(outcome.redirect_origin)
    if not params and outcome.params:  # shown after a POST: switch by asking /authorize again
        common["switch_locale_urls"] = _switch_urls(slug, dict(outcome.params))
    # The forms post back the CSRF token their request was sealed to (the cookie's, made now on
    # a first visit).
    form = {
        **common,
        "tenant_name": outcome.tenant_name,
        "client_name": outcome.client_name,
        "csrf_token": csrf,
        "hidden": {"request": outcome.pending},
    }
    status = 200
    if isinstance(outcome, SignInPage):
        html = render(
            "sign_in.html",
            locale=locale,
            action=f"/t/{slug}/sign-in",
            username=outcome.username,
            error=outcome.error if outcome.error in SIGN_IN_ERRORS else None,
            retry_after=outcome.retry_after,
            **form,
        )
        status = outcome.status
    elif isinstance(outcome, PasswordChangePage):
        form["hidden"] = {"request": outcome.pending, "change": outcome.change}
        html = render(
            "password_change.html",
            locale=locale,
            action=f"/t/{slug}/password",
            username=outcome.username,
            error=outcome.error,
            **form,
        )
        status = outcome.status
    else:
        assert isinstance(outcome, ConsentPage)
        html = render(
            "consent.html",
            locale=locale,
            action=f"/t/{slug}/consent",
            scopes=[(s, describe(s, locale)) for s in outcome.scopes],
            allow_remember=outcome.allow_remember,
            **form,
        )
    response = HTMLResponse(html, status_code=status, headers=headers)
    if new_csrf is not None:
        set_cookie(response, ctx, f"/t/{slug}", CSRF_COOKIE, new_csrf, None)
    return response
