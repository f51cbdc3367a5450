"""Refresh tokens (DESIGN.md §4, §6; RFC 6749 §6; RFC 9700 §4.14): ``pfr_`` values with a
checksum, stored as their keyed hash, rotated on every use. A family is every token that
descends from one code exchange: reuse of a rotated token, revocation of any token (RFC 7009)
or the user being disabled revokes the whole family. Issued only to a client with
``allowOfflineAccess`` and the ``refresh_token`` grant; each lives ``refreshTokenLifetime``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain import credentials as cred
from pforte.domain.clients import REFRESH_TOKEN
from pforte.domain.ids import new_id
from pforte.services.context import Context
from pforte.services.views import ClientView
from pforte.store.repos.sessions import NewRefreshToken, RefreshTokenRepo
from pforte.store.tables import RefreshTokenRow


def offered(client: ClientView) -> bool:
    return client.allow_offline_access and REFRESH_TOKEN in client.grant_types


async def issue(
    session: AsyncSession,
    ctx: Context,
    *,
    tenant_id: uuid.UUID,
    client: ClientView,
    user_id: uuid.UUID,
    session_id: uuid.UUID | None,
    scopes: list[str],
    sid: str | None,
    auth_time: datetime,
    family_id: uuid.UUID,
    now: datetime,
) -> str:
    """A new refresh token in ``family_id``, written in the caller's transaction; its value."""
    value = cred.new_value(cred.Kind.REFRESH_TOKEN)
    await RefreshTokenRepo(session).insert(
        NewRefreshToken(
            id=new_id(),
            tenant_id=tenant_id,
            token_hash=ctx.hasher.hash(value),
            family_id=family_id,
            client_pk=client.pk,
            user_id=user_id,
            session_id=session_id,
            scopes=scopes,
            sid=sid,
            auth_time=auth_time,
            created_at=now,
            expires_at=now + timedelta(seconds=client.refresh_token_lifetime),
        )
    )
    return value


def is_live(row: RefreshTokenRow, now: datetime) -> bool:
    return row.used_at is None and row.revoked_at is None and row.expires_at > now
