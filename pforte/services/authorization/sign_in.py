"""The sign-in form (``POST /t/{slug}/sign-in``): the credentials checked, throttled and
audited, then a session and the authorization continued — or, for a user an administrator
flagged ``mustChangePassword``, the page that asks for a new password first
(``password_change``).

    resume      the CSRF token and the pending request (``endpoint.resume``)
    throttle    the account's and the address's failures (429 page while refused)
    password    ``sessions.check_password``: one neutral message for every failure, audited
    required    ``must_change_password``: no session yet, the new-password page
    session     started, the authorization continued (``endpoint.start_session``)
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime

from pforte.domain.events import Actor, Event, EventName
from pforte.services import audit, sessions
from pforte.services.authorization import password_change
from pforte.services.authorization.endpoint import Authorizing, Browser, resume, sign_in_page, start_session
from pforte.services.authorization.outcomes import Answer
from pforte.services.context import Context


async def sign_in(ctx: Context, slug: str, form: Mapping[str, str], browser: Browser) -> Answer:
    """The sign-in form: check it, the credentials, then continue the authorization."""
    now = ctx.clock()
    resumed = await resume(ctx, slug, form, browser, now)
    if not isinstance(resumed, tuple):
        return Answer(resumed)
    found, request = resumed
    username, password = form.get("username", ""), form.get("password", "")
    account, address = sessions.throttle_keys(username, browser.address)
    blocked = ctx.sign_in_throttle.blocked(slug, account) or ctx.address_throttle.blocked(slug, address)
    if blocked is not None:
        return Answer(sign_in_page(ctx, found, request, browser, now, username, "sign_in.throttled", blocked))
    user = await sessions.check_password(ctx, found.tenant, username, password)
    if user is None:
        verdicts = [
            await ctx.sign_in_throttle.failed(slug, account),
            await ctx.address_throttle.failed(slug, address),
        ]
        await _audit_failure(ctx, found, username, now)
        retry = max((v.retry_after for v in verdicts if v.retry_after is not None), default=None)
        if retry is not None:
            return Answer(
                sign_in_page(ctx, found, request, browser, now, username, "sign_in.throttled", retry)
            )
        delay = max(v.delay for v in verdicts)
        if delay:
            await asyncio.sleep(delay)
        return Answer(sign_in_page(ctx, found, request, browser, now, username, "sign_in.failed"))
    if user.must_change_password:
        return Answer(password_change.page(ctx, found, request, browser, now, user))
    return await start_session(ctx, found, request, user, browser, now, username=username)


async def _audit_failure(ctx: Context, found: Authorizing, username: str, now: datetime) -> None:
    """``user.sign_in_failed`` at the client of the authorization request, and counted there."""
    tenant, client_id = found.tenant, found.client.client_id
    async with ctx.db.transaction() as session:
        audit.record(
            session,
            tenant_id=tenant.id,
            actor=Actor(kind="anonymous", id="-", tenant=tenant.slug),
            event=Event(EventName.USER_SIGN_IN_FAILED, "user", username[:200], {"clientId": client_id}),
            publish=False,
        )
    ctx.events.sign_in_failed(tenant.id, now, client_id)
