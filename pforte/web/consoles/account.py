"""``/t/{slug}/account`` — the user's account console ("Account Verwaltung", DESIGN.md §6).

    GET  /account/            the page: profile, the applications with what each was granted
    GET  /account/callback    the end of the console's sign-in (``signin``)
    POST /account/withdraw    ``client_id``: withdraw that application's access (CSRF-checked)
    POST /account/sign-out    sign out of the tenant in this browser (CSRF-checked)

No script: every action is a form; the answer to a form is a 303 back to the page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pforte.domain.consoles import ACCOUNT
from pforte.domain.ids import is_client_id
from pforte.services import account
from pforte.services.context import Context
from pforte.web.consoles import common, signin
from pforte.web.pages import render
from pforte.web.pages.http import CSRF_COOKIE, browser_of, page_headers, set_cookie
from pforte.web.pages.scopes import describe

NOTICES = {"withdrawn": "account.withdrawn", "nothing": "account.nothing_withdrawn"}


async def home(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    tenant = await common.tenant_of(request, ctx)
    if tenant is None:
        return common.no_tenant(request)
    signed_in = await signin.signed_in(request, ctx, tenant, ACCOUNT)
    overview = await account.overview(ctx, tenant, signed_in.user_id, ctx.clock()) if signed_in else None
    if overview is None:  # not signed in here, or disabled or deleted since
        return signin.start(ctx, tenant, ACCOUNT, common.ui_locales(request))
    browser, new_csrf = browser_of(request, ctx)
    locale = common.locale_of(request)
    base = f"/t/{tenant.slug}{ACCOUNT.path}"
    html = render(
        "account.html",
        locale=locale,
        static_base=common.STATIC_BASE,
        switch_locale_urls=common.SWITCH_LOCALE,
        tenant_name=tenant.name,
        account=overview,
        applications=[(app, [(s, describe(s, locale)) for s in app.scopes]) for app in overview.applications],
        notice=NOTICES.get(request.query_params.get("notice", "")),
        csrf_token=browser.csrf,
        withdraw_action=f"{base}/withdraw",
        sign_out_action=f"{base}/sign-out",
    )
    response = HTMLResponse(html, headers=page_headers())
    if new_csrf is not None:
        set_cookie(response, ctx, f"/t/{tenant.slug}", CSRF_COOKIE, new_csrf, None)
    common.remember_locale(request, response, ctx, f"/t/{tenant.slug}")
    return response


async def callback(request: Request) -> Response:
    return await common.callback(request, ACCOUNT)


async def withdraw(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    checked = await common.checked_form(request, ctx, ACCOUNT)
    if isinstance(checked, Response):
        return checked
    tenant, signed_in, form = checked
    client_id = form.get("client_id", "")
    done = is_client_id(client_id) and await account.withdraw(
        ctx, tenant, signed_in.user_id, client_id, ctx.clock()
    )
    notice = "withdrawn" if done else "nothing"
    return RedirectResponse(
        f"/t/{tenant.slug}{ACCOUNT.path}/?notice={notice}", status_code=303, headers=page_headers()
    )


async def sign_out(request: Request) -> Response:
    return await common.sign_out(request, ACCOUNT)
