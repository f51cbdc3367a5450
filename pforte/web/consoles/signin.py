"""How a person signs in to a console (DESIGN.md §8): the authorization code flow with PKCE,
as the console's built-in public client, through the tenant's own ``/authorize``.

    start     no console cookie: a state and a PKCE verifier go into a sealed, short-lived flow
              cookie, and the browser is sent to ``/authorize`` (303)
    callback  the state must be the flow cookie's and ``iss`` the tenant's (RFC 9207); the code
              is redeemed at once, in-process (``services.consoles.redeem``: single use, bound to
              the console's client and callback, PKCE checked); the console cookie then names
              the sign-in session the code came from
    each page the console cookie must name the browser's live sign-in session (``pforte_session``)
              of an enabled user: signing out anywhere, or the user being disabled, ends the
              console too

Both cookies are sealed with AES-GCM under the server's key for this tenant and console (a
cookie of one console or tenant is worthless at another), HttpOnly, SameSite=Lax and scoped
to the console's path.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pforte.domain.consoles import Console
from pforte.domain.oauth import pkce
from pforte.services import consoles, sessions
from pforte.services.authorization import pending
from pforte.services.context import Context
from pforte.services.views import TenantView
from pforte.web.pages.http import delete_cookie, page_headers, set_cookie

FLOW_COOKIE = "pforte_console_flow"
CONSOLE_COOKIE = "pforte_console"
FLOW_LIFETIME = pending.LIFETIME


def cookie_path(tenant: TenantView, console: Console) -> str:
    return f"/t/{tenant.slug}{console.path}"


def _purpose(console: Console, what: str) -> str:
    return f"pforte-console-{what}:{console.client_id}"


async def signed_in(
    request: Request, ctx: Context, tenant: TenantView, console: Console
) -> sessions.SignedIn | None:
    """The person this console serves in this browser, or None (sign in first)."""
    value = request.cookies.get(CONSOLE_COOKIE)
    if not value:
        return None
    now = ctx.clock()
    try:
        held = pending.unseal(
            ctx.request_sealer,
            value,
            slug=tenant.slug,
            csrf="",
            now=now,
            purpose=_purpose(console, "session"),
            lifetime=ctx.settings.session_lifetime,
        )
    except pending.Expired:
        return None
    current = await sessions.current(ctx, tenant, request.cookies.get(sessions.COOKIE), now)
    if current is None or str(current.session_id) != held.params.get("session"):
        return None
    return current


def start(ctx: Context, tenant: TenantView, console: Console, ui_locales: str | None) -> Response:
    """Off to the tenant's ``/authorize`` as the console's client."""
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": console.client_id,
        "redirect_uri": console.callback(tenant.issuer),
        "scope": "openid",
        "state": state,
        "code_challenge": pkce.s256(verifier),
        "code_challenge_method": "S256",
    }
    if ui_locales:
        params["ui_locales"] = ui_locales
    response = RedirectResponse(
        f"/t/{tenant.slug}/authorize?{urlencode(params)}", status_code=303, headers=page_headers()
    )
    flow = pending.seal(
        ctx.request_sealer,
        {"state": state, "verifier": verifier},
        slug=tenant.slug,
        csrf="",
        now=ctx.clock(),
        purpose=_purpose(console, "flow"),
    )
    set_cookie(response, ctx, cookie_path(tenant, console), FLOW_COOKIE, flow, FLOW_LIFETIME)
    return response


class CallbackRefused(Exception):
    """The callback is not the answer to this browser's sign-in; the message says why.
    ``denied``: the sign-in itself was refused (``access_denied``)."""

    def __init__(self, message: str, *, denied: bool = False) -> None:
        super().__init__(message)
        self.denied = denied


async def finish(
    request: Request, ctx: Context, tenant: TenantView, console: Console, params: Mapping[str, str]
) -> Response:
    """The callback: check, redeem, set the console cookie, and go to the console's home."""
    now = ctx.clock()
    try:
        flow = pending.unseal(
            ctx.request_sealer,
            request.cookies.get(FLOW_COOKIE, ""),
            slug=tenant.slug,
            csrf="",
            now=now,
            purpose=_purpose(console, "flow"),
        )
    except pending.Expired:
        raise CallbackRefused("The sign-in took too long, or it was not started in this browser.") from None
    if not hmac.compare_digest(params.get("state", "").encode(), flow.params.get("state", "").encode()):
        raise CallbackRefused("The sign-in answer does not belong to this browser's sign-in.")
    if params.get("iss") != tenant.issuer:
        raise CallbackRefused("The sign-in answer does not come from this tenant.")
    if "error" in params:
        raise CallbackRefused("The sign-in was refused.", denied=params["error"] == "access_denied")
    session_id: uuid.UUID | None = None
    code = params.get("code")
    if code:
        session_id = await consoles.redeem(ctx, tenant, console, code, flow.params.get("verifier", ""), now)
    if session_id is None:
        raise CallbackRefused("The sign-in code is invalid, expired or used.")
    response = RedirectResponse(console.home(f"/t/{tenant.slug}"), status_code=303, headers=page_headers())
    sealed = pending.seal(
        ctx.request_sealer,
        {"session": str(session_id)},
        slug=tenant.slug,
        csrf="",
        now=now,
        purpose=_purpose(console, "session"),
    )
    path = cookie_path(tenant, console)
    set_cookie(response, ctx, path, CONSOLE_COOKIE, sealed, ctx.settings.session_lifetime)
    delete_cookie(response, ctx, path, FLOW_COOKIE)
    return response


def forget(response: Response, ctx: Context, tenant: TenantView, console: Console) -> None:
    """Sign-out: the console's cookies go."""
    path = cookie_path(tenant, console)
    delete_cookie(response, ctx, path, CONSOLE_COOKIE)
    delete_cookie(response, ctx, path, FLOW_COOKIE)
