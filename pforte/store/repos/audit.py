"""Audit events of a tenant; ``list`` starts from ``scoping``."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Collection

from sqlalchemy import and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.store.repos.scoping import scoped_select
from pforte.store.tables import AuditEventRow


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: AuditEventRow) -> None:
        self.session.add(row)

    async def list(
        self, tenant_id: uuid.UUID, *, limit: int = 100, name_prefix: str = ""
    ) -> list[AuditEventRow]:
        """The newest events, those whose name starts with ``name_prefix`` when given."""
        stmt = scoped_select(AuditEventRow, tenant_id)
        if name_prefix:
            upper = name_prefix[:-1] + chr(ord(name_prefix[-1]) + 1)
            stmt = stmt.where(AuditEventRow.name >= name_prefix, AuditEventRow.name < upper)
        stmt = stmt.order_by(AuditEventRow.id.desc()).limit(limit)
        return list((await self.session.scalars(stmt)).all())

    async def of_client(
        self, tenant_id: uuid.UUID, client_id: str, credential_ids: Collection[str], *, limit: int = 100
    ) -> builtins.list[AuditEventRow]:
        """The client's own events and those of its credentials (by their ids), newest first."""
        own = and_(AuditEventRow.target_type == "client", AuditEventRow.target_id == client_id)
        wanted = (
            or_(
                own,
                and_(
                    AuditEventRow.target_type.in_(("client_secret", "api_key")),
                    AuditEventRow.target_id.in_(list(credential_ids)),
                ),
            )
            if credential_ids
            else own
        )
        stmt = (
            scoped_select(AuditEventRow, tenant_id)
            .where(wanted)
            .order_by(AuditEventRow.id.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(stmt)).all())
