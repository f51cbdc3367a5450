"""Audit events of a tenant; ``list`` starts from ``scoping``."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.store.repos.scoping import scoped_select
from pforte.store.tables import AuditEventRow


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: AuditEventRow) -> None:
        self.session.add(row)

    async def list(self, tenant_id: uuid.UUID, *, limit: int = 100) -> list[AuditEventRow]:
        stmt = scoped_select(AuditEventRow, tenant_id).order_by(AuditEventRow.id.desc()).limit(limit)
        return list((await self.session.scalars(stmt)).all())
