"""What both consoles do alike: find the tenant of the path, read and check a console form
(CSRF double-submit, the person still signed in), choose the language, show an error page, and
the callback and sign-out of ``signin``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pforte.domain.consoles import Console
from pforte.domain.ids import is_slug
from pforte.observability import set_tenant
from pforte.services import sessions
from pforte.services.authorization import pending
from pforte.services.authorization.logout import end_session
from pforte.services.context import Context
from pforte.services.views import TenantView
from pforte.web.consoles import signin
from pforte.web.pages import LOCALES, negotiate_locale, render
from pforte.web.pages.http import CSRF_COOKIE, BadForm, delete_cookie, page_headers, read_params, set_cookie

STATIC_BASE = "/static"
SWITCH_LOCALE = {"en": "?ui_locales=en", "de": "?ui_locales=de"}


async def tenant_of(request: Request, ctx: Context) -> TenantView | None:
    slug = request.path_params["slug"]
    if not is_slug(slug):
        return None
    set_tenant(slug)
    return await ctx.cache.tenant(slug)


LOCALE_COOKIE = "pforte_locale"  # the language switch's choice, kept across a console's pages


def ui_locales(request: Request) -> str | None:
    """The language asked for: the switch's ``?ui_locales=`` on this request, else its cookie."""
    value = request.query_params.get("ui_locales") or request.cookies.get(LOCALE_COOKIE)
    return value if value and len(value) <= 64 else None


def locale_of(request: Request) -> str:
    wanted = ui_locales(request)
    return negotiate_locale(request.headers.get("accept-language"), tuple(wanted.split()) if wanted else ())


def remember_locale(request: Request, response: Response, ctx: Context, path: str) -> None:
    """The switch was used: keep its language for the console's next pages."""
    chosen = request.query_params.get("ui_locales")
    if chosen in LOCALES:
        set_cookie(response, ctx, path, LOCALE_COOKIE, chosen, 365 * 24 * 3600)


def error_page(request: Request, status: int, title_key: str, detail: str) -> Response:
    html = render(
        "error.html",
        locale=locale_of(request),
        static_base=STATIC_BASE,
        switch_locale_urls=SWITCH_LOCALE,
        tenant_name=None,
        status=status,
        title_key=title_key,
        detail=detail,
    )
    return HTMLResponse(html, status_code=status, headers=page_headers())


def no_tenant(request: Request) -> Response:
    return error_page(request, 404, "error.invalid_request", "There is no such tenant.")


async def checked_form(
    request: Request, ctx: Context, console: Console
) -> tuple[TenantView, sessions.SignedIn, dict[str, str]] | Response:
    """The tenant, the signed-in person and the form of a console action — or the page that
    refuses it (no such tenant, not signed in, a form not from this browser's own page)."""
    tenant = await tenant_of(request, ctx)
    if tenant is None:
        return no_tenant(request)
    try:
        form = await read_params(request)
    except BadForm as exc:
        return error_page(request, 400, "error.invalid_request", str(exc))
    if not pending.same_token(form.get("csrf_token"), request.cookies.get(CSRF_COOKIE)):
        return error_page(
            request, 403, "error.expired", "The form was not sent from this browser's own page."
        )
    signed_in = await signin.signed_in(request, ctx, tenant, console)
    if signed_in is None:
        return RedirectResponse(console.home(f"/t/{tenant.slug}"), status_code=303, headers=page_headers())
    return tenant, signed_in, form


async def callback(request: Request, console: Console) -> Response:
    """``{console}/callback``: the end of the console's sign-in."""
    ctx: Context = request.app.state.ctx
    tenant = await tenant_of(request, ctx)
    if tenant is None:
        return no_tenant(request)
    try:
        params = await read_params(request)
        return await signin.finish(request, ctx, tenant, console, params)
    except BadForm as exc:
        return error_page(request, 400, "error.invalid_request", str(exc))
    except signin.CallbackRefused as exc:
        if exc.denied:
            return error_page(request, 403, "error.access_denied", str(exc))
        return error_page(request, 400, "error.console_sign_in", str(exc))


async def sign_out(request: Request, console: Console) -> Response:
    """``{console}/sign-out``: end the tenant session in this browser, as ``/logout`` does."""
    ctx: Context = request.app.state.ctx
    checked = await checked_form(request, ctx, console)
    if isinstance(checked, Response):
        return checked
    tenant, signed_in, _form = checked
    await end_session(ctx, tenant, signed_in)
    html = render(
        "signed_out.html",
        locale=locale_of(request),
        static_base=STATIC_BASE,
        switch_locale_urls=SWITCH_LOCALE,
        tenant_name=tenant.name,
    )
    response = HTMLResponse(html, headers=page_headers())
    signin.forget(response, ctx, tenant, console)
    delete_cookie(response, ctx, f"/t/{tenant.slug}", sessions.COOKIE)
    return response


NOTICE_LIFETIME = 120  # seconds a message carried across a redirect stays readable


def seal_notice(ctx: Context, slug: str, text: str) -> str:
    """A message for the page a form's redirect leads to, sealed: a link someone else made cannot
    put words of theirs into the console."""
    return pending.seal(
        ctx.request_sealer, {"m": text[:500]}, slug=slug, csrf="", now=ctx.clock(), purpose="console-notice"
    )


def open_notice(ctx: Context, slug: str, value: str | None) -> str | None:
    if not value:
        return None
    try:
        held = pending.unseal(
            ctx.request_sealer,
            value,
            slug=slug,
            csrf="",
            now=ctx.clock(),
            purpose="console-notice",
            lifetime=NOTICE_LIFETIME,
        )
    except pending.Expired:
        return None
    return held.params.get("m")
