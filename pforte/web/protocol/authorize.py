"""``/t/{slug}/authorize`` and the pages it leads to, as HTTP: parse, call the service, render.

Every page is HTML with ``Cache-Control: no-store``, a strict Content-Security-Policy (no
script; styles from this server; forms post only to this server), ``X-Frame-Options: DENY``
(no clickjacking of the sign-in form) and ``Referrer-Policy: no-referrer``. Redirects are 303
(a POSTed form becomes a GET at the client, RFC 9110 §15.4.4).

Cookies are scoped to the tenant's issuer path ``/t/{slug}``, HttpOnly, SameSite=Lax, and
Secure when ``PFORTE_PUBLIC_URL`` is https: ``pforte_session`` (the sign-in session) and
``pforte_csrf`` (the double-submit token the forms carry).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pforte.domain.oauth.errors import OAuthError
from pforte.domain.oauth.forms import parse_form
from pforte.domain.outbound import client_address, parse_networks
from pforte.domain.permissions import BY_NAME
from pforte.observability import set_tenant
from pforte.services import sessions
from pforte.services.authorization import endpoint
from pforte.services.authorization import logout as logout_service
from pforte.services.authorization.outcomes import (
    Answer,
    ConsentPage,
    DeniedPage,
    ErrorPage,
    LogoutOutcome,
    LogoutPage,
    Outcome,
    Redirect,
    SignedOutPage,
    SignInPage,
)
from pforte.services.context import Context
from pforte.web.pages import negotiate_locale, render, translate
from pforte.web.request_body import BodyTimeout, BodyTooLarge, read_body

CSRF_COOKIE = "pforte_csrf"
STATIC_BASE = "/static"
FORM = "application/x-www-form-urlencoded"
MAX_FORM = 16 * 1024


def _headers(form_target: str | None = None) -> dict[str, str]:
    """``form_target``: the origin the form's answer redirects to (the client's redirect URI);
    CSP's form-action also governs where a submitted form's redirects may go."""
    form_action = "'self'" + (f" {form_target}" if form_target else "")
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'self'; img-src 'self'; form-action {form_action}; "
            "frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


async def authorize(request: Request) -> Response:
    ctx, slug = request.app.state.ctx, request.path_params["slug"]
    set_tenant(slug)
    try:
        if request.method == "POST":
            params = parse_form(request.headers.get("content-type", ""), await _body(request))
        else:
            params = parse_form(FORM, request.url.query.encode("latin-1"))
    except (OAuthError, _BadBody) as exc:
        return _page(request, ctx, slug, {}, ErrorPage(400, "error.invalid_request", _reason(exc)))
    browser, new_csrf = _browser(request, ctx)
    outcome = await endpoint.authorize(ctx, slug, params, browser)
    return _page(request, ctx, slug, params, outcome, csrf=browser.csrf, new_csrf=new_csrf)


async def sign_in(request: Request) -> Response:
    ctx, slug = request.app.state.ctx, request.path_params["slug"]
    set_tenant(slug)
    form = await _form(request)
    if isinstance(form, ErrorPage):
        return _page(request, ctx, slug, {}, form)
    browser, new_csrf = _browser(request, ctx)
    answer: Answer = await endpoint.sign_in(ctx, slug, form, browser)
    response = _page(request, ctx, slug, {}, answer.outcome, csrf=browser.csrf, new_csrf=new_csrf)
    if answer.session_cookie is not None:
        _set_cookie(
            response, ctx, slug, sessions.COOKIE, answer.session_cookie, ctx.settings.session_lifetime
        )
    return response


async def consent(request: Request) -> Response:
    ctx, slug = request.app.state.ctx, request.path_params["slug"]
    set_tenant(slug)
    form = await _form(request)
    if isinstance(form, ErrorPage):
        return _page(request, ctx, slug, {}, form)
    browser, new_csrf = _browser(request, ctx)
    outcome = await endpoint.consent(ctx, slug, form, browser)
    return _page(request, ctx, slug, {}, outcome, csrf=browser.csrf, new_csrf=new_csrf)


async def logout(request: Request) -> Response:
    """RP-Initiated Logout: GET or POST with the RP's parameters, or the confirmation form."""
    ctx, slug = request.app.state.ctx, request.path_params["slug"]
    set_tenant(slug)
    try:
        if request.method == "POST":
            params = parse_form(request.headers.get("content-type", ""), await _body(request))
        else:
            params = parse_form(FORM, request.url.query.encode("latin-1"))
    except (OAuthError, _BadBody) as exc:
        return _page(request, ctx, slug, {}, ErrorPage(400, "error.invalid_request", _reason(exc)))
    browser, new_csrf = _browser(request, ctx)
    if request.method == "POST" and ("request" in params or "decision" in params):  # the confirmation
        outcome = await logout_service.confirm(ctx, slug, params, browser)
    else:
        outcome = await logout_service.logout(ctx, slug, params, browser)
    response = _logout_page(request, ctx, slug, outcome, csrf=browser.csrf, new_csrf=new_csrf)
    if not isinstance(outcome, (ErrorPage, LogoutPage)):
        response.delete_cookie(
            sessions.COOKIE,
            path=f"/t/{slug}",
            secure=ctx.settings.public_url.startswith("https://"),
            httponly=True,
            samesite="lax",
        )
    return response


def _logout_page(
    request: Request, ctx: Context, slug: str, outcome: LogoutOutcome, *, csrf: str, new_csrf: str | None
) -> Response:
    if isinstance(outcome, (ErrorPage, Redirect)):
        return _page(request, ctx, slug, {}, outcome)
    headers = _headers()
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
        _set_cookie(response, ctx, slug, CSRF_COOKIE, new_csrf, None)
    return response


# --- helpers ------------------------------------------------------------------------------------


class _BadBody(Exception):
    pass


def _reason(exc: Exception) -> str:
    return exc.description if isinstance(exc, OAuthError) else str(exc)


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    try:
        body = await read_body(
            request.receive,
            limit=MAX_FORM,
            declared=int(declared) if declared and declared.isdigit() else None,
            seconds=request.app.state.ctx.settings.body_timeout,
        )
    except BodyTooLarge:
        raise _BadBody("The form is too large.") from None
    except BodyTimeout:
        raise _BadBody("The form took too long to arrive.") from None
    return body or b""


async def _form(request: Request) -> dict[str, str] | ErrorPage:
    try:
        return parse_form(request.headers.get("content-type", ""), await _body(request))
    except (OAuthError, _BadBody) as exc:
        return ErrorPage(400, "error.invalid_request", _reason(exc))


def _browser(request: Request, ctx: Context) -> tuple[endpoint.Browser, str | None]:
    """The browser's cookies, and a new CSRF token to set when it has none (a first visit)."""
    csrf = request.cookies.get(CSRF_COOKIE)
    new = None
    if not csrf or len(csrf) > 64:
        csrf = new = secrets.token_urlsafe(32)
    peer = request.client.host if request.client is not None else None
    trusted = parse_networks(ctx.settings.trusted_proxies) if ctx.settings.trusted_proxies else ()
    address = client_address(peer, request.headers.get("x-forwarded-for"), trusted)
    browser = endpoint.Browser(
        session_cookie=request.cookies.get(sessions.COOKIE), csrf=csrf, address=address
    )
    return browser, new


def _set_cookie(
    response: Response, ctx: Context, slug: str, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=f"/t/{slug}",
        secure=ctx.settings.public_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )


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
    headers = _headers()
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
    # The forms post back the CSRF token their request was sealed to (the cookie's, made now on
    # a first visit).
    token = csrf
    headers = _headers(outcome.redirect_origin)
    if isinstance(outcome, SignInPage):
        html = render(
            "sign_in.html",
            locale=locale,
            tenant_name=outcome.tenant_name,
            client_name=outcome.client_name,
            action=f"/t/{slug}/sign-in",
            csrf_token=token,
            hidden={"request": outcome.pending},
            username=outcome.username,
            error=outcome.error if outcome.error == "sign_in.failed" else None,
            retry_after=outcome.retry_after,
            **common,
        )
        status = outcome.status
    else:
        assert isinstance(outcome, ConsentPage)
        html = render(
            "consent.html",
            locale=locale,
            tenant_name=outcome.tenant_name,
            client_name=outcome.client_name,
            action=f"/t/{slug}/consent",
            csrf_token=token,
            hidden={"request": outcome.pending},
            scopes=[(s, _describe(s, locale)) for s in outcome.scopes],
            allow_remember=outcome.allow_remember,
            **common,
        )
        status = 200
    response = HTMLResponse(html, status_code=status, headers=headers)
    if new_csrf is not None:
        _set_cookie(response, ctx, slug, CSRF_COOKIE, new_csrf, None)
    return response


def _describe(scope: str, locale: str) -> str:
    if scope in BY_NAME:
        permission = BY_NAME[scope]
        return permission.description_de if locale == "de" else permission.description_en
    try:
        return translate(f"scope.{scope}", locale=locale)
    except KeyError:
        return scope
