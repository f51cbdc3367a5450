"""What every HTML page of a tenant shares at the HTTP level: security headers, the tenant-
scoped cookies, the browser's CSRF token and address, and reading a form within limits.

Pages are ``Cache-Control: no-store`` with a strict Content-Security-Policy (no script; styles
from this server; forms post only to this server and, where a form's answer redirects to a
client, to that client's origin), ``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer``.
Cookies are scoped to the tenant's issuer path ``/t/{slug}`` (or a path below it), HttpOnly,
SameSite=Lax, and Secure when ``PFORTE_PUBLIC_URL`` is https.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from pforte.domain.oauth.errors import OAuthError
from pforte.domain.oauth.forms import parse_form
from pforte.domain.outbound import client_address, parse_networks
from pforte.services import sessions
from pforte.services.authorization.endpoint import Browser
from pforte.services.context import Context
from pforte.web.request_body import BodyTimeout, BodyTooLarge, read_body

CSRF_COOKIE = "pforte_csrf"
FORM = "application/x-www-form-urlencoded"
MAX_FORM = 16 * 1024
# C0 controls and DEL, except the line breaks and tabs a text area sends
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadForm(Exception):
    """The form cannot be read: too large, too slow, or not a form; the message says which."""


def page_headers(form_target: str | None = None) -> dict[str, str]:
    """``form_target``: the origin a form's answer redirects to (the client's redirect URI);
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


async def read_params(request: Request) -> dict[str, str]:
    """The parameters of a GET (its query) or a POST (its form body); ``BadForm`` otherwise."""
    try:
        if request.method == "POST":
            return parse_form(request.headers.get("content-type", ""), await _body(request))
        return parse_form(FORM, request.url.query.encode("latin-1"))
    except OAuthError as exc:
        raise BadForm(exc.description) from None


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    ctx: Context = request.app.state.ctx
    try:
        body = await read_body(
            request.receive,
            limit=MAX_FORM,
            declared=int(declared) if declared and declared.isdigit() else None,
            seconds=ctx.settings.body_timeout,
        )
    except BodyTooLarge:
        raise BadForm("The form is too large.") from None
    except BodyTimeout:
        raise BadForm("The form took too long to arrive.") from None
    return body or b""


def browser_of(request: Request, ctx: Context) -> tuple[Browser, str | None]:
    """The browser's cookies, and a new CSRF token to set when it has none (a first visit)."""
    csrf = request.cookies.get(CSRF_COOKIE)
    new = None
    if not csrf or len(csrf) > 64:
        csrf = new = secrets.token_urlsafe(32)
    peer = request.client.host if request.client is not None else None
    trusted = parse_networks(ctx.settings.trusted_proxies) if ctx.settings.trusted_proxies else ()
    address = client_address(peer, request.headers.get("x-forwarded-for"), trusted)
    browser = Browser(session_cookie=request.cookies.get(sessions.COOKIE), csrf=csrf, address=address)
    return browser, new


def set_cookie(
    response: Response, ctx: Context, path: str, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=ctx.settings.public_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )


def delete_cookie(response: Response, ctx: Context, path: str, name: str) -> None:
    response.delete_cookie(
        name, path=path, secure=ctx.settings.public_url.startswith("https://"), httponly=True, samesite="lax"
    )


async def read_fields(request: Request) -> list[tuple[str, str]]:
    """A console form's fields in order, names repeating (checkbox lists); ``BadForm`` unless
    it is a URL-encoded form in UTF-8 without control characters, within ``MAX_FORM``."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != FORM:
        raise BadForm("Send the form as application/x-www-form-urlencoded.")
    body = await _body(request)
    try:
        fields = parse_qsl(body.decode("ascii"), keep_blank_values=True, max_num_fields=1000, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadForm("The form is not valid URL-encoded UTF-8.") from None
    if any(_CONTROL.search(name) or _CONTROL.search(value) for name, value in fields):
        raise BadForm("The form holds control characters.")
    return fields
