"""Sign-in sessions: who is signed in at a tenant in this browser (DESIGN.md §6).

The browser holds a random value in an HttpOnly cookie scoped to ``/t/{slug}``; the store keeps
only its keyed hash, so a copy of the database signs no one in. A session lasts
``PFORTE_SESSION_LIFETIME`` seconds from sign-in; it ends early when its user is disabled or
deleted (the row is deleted with them), and every sign-in starts a new one (no fixation).

Password checks take the same time whether or not the account exists: an unknown username, a
disabled user, a user without a password and a wrong password all verify an argon2id hash and
give the one answer ``None``.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import new_id
from pforte.domain.users import PASSWORD_MAX, username_key
from pforte.services import audit
from pforte.services.context import Context
from pforte.services.roles import role_of
from pforte.services.views import TenantView
from pforte.store.repos.sessions import SessionRepo
from pforte.store.repos.users import UserRepo
from pforte.store.tables import SessionRow, UserRow

COOKIE = "pforte_session"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session and its user, as the authorization endpoint needs them."""

    session_id: uuid.UUID
    sid: str
    auth_time: datetime
    user_id: uuid.UUID
    username: str
    roles: frozenset[str]  # tenant role names
    permissions: frozenset[str]  # what those roles hold


def user_actor(tenant: TenantView, user: UserRow) -> Actor:
    return Actor(kind="user", id=str(user.id), tenant=tenant.slug)


async def current(ctx: Context, tenant: TenantView, cookie: str | None, now: datetime) -> SignedIn | None:
    """The session the cookie names, if it is live and its user enabled; else None."""
    if not cookie or len(cookie) > 100:
        return None
    async with ctx.db.transaction() as session:
        row = await SessionRepo(session).by_secret_hash(tenant.id, ctx.hasher.hash(cookie))
        if row is None or row.expires_at <= now:
            return None
        repo = UserRepo(session)
        user = await repo.get(tenant.id, row.user_id)
        if user is None or not user.enabled:
            return None
        roles = await repo.roles_of(tenant.id, user.id)
    permissions = frozenset(p for r in roles for p in role_of(r, tenant.slug).permissions)
    return SignedIn(
        session_id=row.id,
        sid=row.sid,
        auth_time=row.auth_time,
        user_id=user.id,
        username=user.username,
        roles=frozenset(r.name for r in roles),
        permissions=permissions,
    )


async def check_password(ctx: Context, tenant: TenantView, username: str, password: str) -> UserRow | None:
    """The enabled user ``username`` (any case) whose password this is; None for every failure,
    after the same work. A hash made with older parameters is renewed on success."""
    if len(password) > PASSWORD_MAX or len(username) > 255:
        await asyncio.to_thread(ctx.passwords.verify_dummy, password[:PASSWORD_MAX])
        return None
    async with ctx.db.transaction() as session:
        user = await UserRepo(session).by_username(tenant.id, username)
        stored = user.password_hash if user is not None else None
    if user is None or stored is None:
        await asyncio.to_thread(ctx.passwords.verify_dummy, password)
        return None
    matched = await asyncio.to_thread(ctx.passwords.verify, stored, password)
    if not matched or not user.enabled:
        return None
    if ctx.passwords.needs_rehash(stored):
        renewed = await asyncio.to_thread(ctx.passwords.hash, password)
        async with ctx.db.transaction() as session:
            held = await UserRepo(session).lock(tenant.id, user.id)
            if held is not None and held.password_hash == stored:
                held.password_hash = renewed
    return user


async def start(
    ctx: Context,
    tenant: TenantView,
    user: UserRow,
    now: datetime,
    *,
    replaces: str | None,
    client_id: str | None = None,
) -> tuple[str, SessionRow]:
    """A new session for ``user`` (the one ``replaces`` names, if any, ends); the cookie value.
    ``client_id``: the application the user signs in to, as the ``user.signed_in`` event names it."""
    value = secrets.token_urlsafe(32)
    row = SessionRow(
        id=new_id(),
        tenant_id=tenant.id,
        user_id=user.id,
        secret_hash=ctx.hasher.hash(value),
        sid=secrets.token_urlsafe(24),
        auth_time=now.replace(microsecond=0),
        created_at=now,
        expires_at=now + timedelta(seconds=ctx.settings.session_lifetime),
    )
    fields = {"username": user.username} | ({"clientId": client_id} if client_id else {})
    async with ctx.db.transaction() as session:
        repo = SessionRepo(session)
        if replaces:
            old = await repo.by_secret_hash(tenant.id, ctx.hasher.hash(replaces))
            if old is not None:
                await repo.delete(tenant.id, old.id)
        repo.add(row)
        audit.record(
            session,
            tenant_id=tenant.id,
            actor=user_actor(tenant, user),
            event=Event(EventName.USER_SIGNED_IN, "user", str(user.id), fields),
            publish=False,
        )
    return value, row


async def end(ctx: Context, tenant: TenantView, cookie: str | None) -> SessionRow | None:
    """End the session the cookie names (sign-out); the session that ended, if any."""
    if not cookie or len(cookie) > 100:
        return None
    async with ctx.db.transaction() as session:
        repo = SessionRepo(session)
        row = await repo.by_secret_hash(tenant.id, ctx.hasher.hash(cookie))
        if row is not None:
            await repo.delete(tenant.id, row.id)
        return row


def throttle_keys(username: str, address: str | None) -> tuple[str, str]:
    """The two counters a failed sign-in adds to: the account's and the client address's."""
    return f"user:{username_key(username)[:255]}", f"ip:{address or 'unknown'}"
