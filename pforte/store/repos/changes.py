"""The change feed and the revoked-token deny-list.

``ChangeRepo`` is not tenant-scoped: the feed is how every process learns of every tenant's
changes (SQLite processes read it through ``store.sqlite_feed``; PostgreSQL ones get NOTIFYs).
``RevokedTokenRepo.add`` is scoped (``scoping``); ``live`` loads the whole deny-list at start,
which every process must hold whatever tenant its requests are for, and ``prune`` drops expired
entries of every tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.store.repos.scoping import scoped_select
from pforte.store.tables import ChangeRow, RevokedTokenRow


class ChangeRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def prune(self, before: datetime) -> None:
        await self.session.execute(delete(ChangeRow).where(ChangeRow.created_at < before))


class RevokedTokenRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: RevokedTokenRow) -> bool:
        """False when the ``jti`` was already revoked (nothing is written)."""
        exists = await self.session.scalar(
            scoped_select(RevokedTokenRow, row.tenant_id)
            .where(RevokedTokenRow.jti == row.jti)
            .with_only_columns(RevokedTokenRow.jti)
        )
        if exists is not None:
            return False
        self.session.add(row)
        return True

    async def live(self, now: datetime) -> Sequence[Row[str, datetime]]:
        stmt = select(RevokedTokenRow.jti, RevokedTokenRow.expires_at).where(RevokedTokenRow.expires_at > now)
        return (await self.session.execute(stmt)).all()

    async def prune(self, now: datetime) -> None:
        await self.session.execute(delete(RevokedTokenRow).where(RevokedTokenRow.expires_at <= now))
