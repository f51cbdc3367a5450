"""A new password before the session: Keycloak's UPDATE_PASSWORD required action, for a user an
administrator created with ``mustChangePassword`` or gave a password with ``mustChange``.

    sign-in form   the password is right and the user is flagged: no session, no code; instead
                   the page "Choose a new password" (``page``), carrying the pending request as
                   the sign-in form does and a change token: the user's id and row version,
                   sealed (``PURPOSE``) to the tenant and the browser's CSRF cookie
    its form       ``POST /t/{slug}/password`` (``change_password``):
      resume       the CSRF token and the pending request, as at the sign-in form
      token        opens, is at most ``LIFETIME`` seconds old, and the user is still enabled,
                   flagged and at that version (any change of the user since voids it) — else
                   the sign-in page again, with a message, and nothing changed
      rules        ``new_password`` 8–256 characters (``domain.users.check_password``), equal
                   to ``new_password_repeat``, and not the old password (argon2 verify against
                   the stored hash) — else this page again, 422, nothing changed
      change       the new hash, the flag cleared, the version counted up and
                   ``user.password_changed`` ``{"by": "user"}`` (actor: the user), in one
                   transaction holding the user's row, which it checks again
      session      started as a sign-in starts it (``user.signed_in``), the authorization
                   continued: consent, or the code

No throttle here: the old password was verified before the token was sealed, and the token
works five minutes in one browser for one user in one state.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import datetime

from pforte.domain.errors import Invalid
from pforte.domain.events import Event, EventName
from pforte.domain.oauth.authorization_requests import AuthorizationRequest
from pforte.domain.users import check_password
from pforte.services import audit, sessions
from pforte.services.authorization import pending
from pforte.services.authorization.endpoint import (
    Authorizing,
    Browser,
    origin_of,
    resume,
    sealed_request,
    sign_in_page,
    start_session,
)
from pforte.services.authorization.outcomes import Answer, PasswordChangePage, SignInPage
from pforte.services.context import Context
from pforte.services.users import hash_password
from pforte.store.repos.users import UserRepo
from pforte.store.tables import UserRow

PURPOSE = "pforte-password-change"
LIFETIME = 300  # seconds from the old password verified to the new one sent
EXPIRED = "sign_in.change_expired"  # the sign-in page's message when the token is no good


def page(
    ctx: Context,
    found: Authorizing,
    request: AuthorizationRequest,
    browser: Browser,
    now: datetime,
    user: UserRow,
) -> PasswordChangePage:
    """The page a flagged user sees after their password was verified: a new change token."""
    token = pending.seal(
        ctx.request_sealer,
        {"user": str(user.id), "version": str(user.version)},
        slug=found.tenant.slug,
        csrf=browser.csrf,
        now=now,
        purpose=PURPOSE,
    )
    return _page(ctx, found, request, browser, now, token, user.username)


async def change_password(ctx: Context, slug: str, form: Mapping[str, str], browser: Browser) -> Answer:
    """The new-password form: the token, the rules, the change, then the session."""
    now = ctx.clock()
    resumed = await resume(ctx, slug, form, browser, now)
    if not isinstance(resumed, tuple):
        return Answer(resumed)
    found, request = resumed
    token = form.get("change", "")
    user = await _flagged(ctx, found, token, browser, now)
    if user is None or user.password_hash is None:
        return Answer(_expired(ctx, found, request, browser, now))
    new = form.get("new_password", "")
    broken = _broken(new, form.get("new_password_repeat", ""))
    if broken is None and await asyncio.to_thread(ctx.passwords.verify, user.password_hash, new):
        broken = "password_change.same"
    if broken is not None:
        return Answer(_page(ctx, found, request, browser, now, token, user.username, broken))
    changed = await _change(ctx, found, user, await hash_password(ctx, new), now)
    if changed is None:  # the user changed while the new password was hashed
        return Answer(_expired(ctx, found, request, browser, now))
    return await start_session(ctx, found, request, changed, browser, now, username=changed.username)


def _page(
    ctx: Context,
    found: Authorizing,
    request: AuthorizationRequest,
    browser: Browser,
    now: datetime,
    token: str,
    username: str,
    error: str | None = None,
) -> PasswordChangePage:
    """The page again keeps its token (five minutes from the old password, however many tries)
    and renews the pending request's seal, as every page does."""
    return PasswordChangePage(
        tenant_name=found.tenant_name,
        client_name=found.client_name,
        pending=sealed_request(ctx, found, browser, now),
        change=token,
        username=username,
        ui_locales=request.ui_locales,
        redirect_origin=origin_of(found.redirect_uri),
        error=error,
        status=200 if error is None else 422,
        params=tuple(found.params.items()),
    )


def _expired(
    ctx: Context, found: Authorizing, request: AuthorizationRequest, browser: Browser, now: datetime
) -> SignInPage:
    return sign_in_page(ctx, found, request, browser, now, None, EXPIRED)


def _broken(new: str, repeat: str) -> str | None:
    """The message key of the first rule the new password breaks, if any."""
    try:
        check_password(new, field="new_password")
    except Invalid:
        return "password_change.rules"
    if new != repeat:
        return "password_change.mismatch"
    return None


def _same_state(row: UserRow | None, version: int) -> bool:
    return row is not None and row.enabled and row.must_change_password and row.version == version


async def _flagged(
    ctx: Context, found: Authorizing, token: str, browser: Browser, now: datetime
) -> UserRow | None:
    """The user the token names, if it is good and the user is as it was when it was sealed."""
    try:
        held = pending.unseal(
            ctx.request_sealer,
            token,
            slug=found.tenant.slug,
            csrf=browser.csrf,
            now=now,
            purpose=PURPOSE,
            lifetime=LIFETIME,
        )
        user_id, version = uuid.UUID(held.params["user"]), int(held.params["version"])
    except (pending.Expired, KeyError, ValueError):
        return None
    async with ctx.db.transaction() as session:
        row = await UserRepo(session).get(found.tenant.id, user_id)
    return row if _same_state(row, version) else None


async def _change(
    ctx: Context, found: Authorizing, user: UserRow, password_hash: str, now: datetime
) -> UserRow | None:
    """Set the new hash and clear the flag, holding the user; None if the user changed since
    ``user`` was read (then nothing is written)."""
    async with ctx.db.transaction() as session:
        row = await UserRepo(session).lock(found.tenant.id, user.id)
        if row is None or not _same_state(row, user.version):
            return None
        row.password_hash = password_hash
        row.must_change_password = False
        row.updated_at = now
        row.version += 1
        audit.record(
            session,
            tenant_id=found.tenant.id,
            actor=sessions.user_actor(found.tenant, row),
            event=Event(EventName.USER_PASSWORD_CHANGED, "user", str(row.id), {"by": "user"}),
            publish=False,  # no cache holds a password or the flag
        )
        return row
