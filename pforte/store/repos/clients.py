"""Clients of a tenant. Every method takes ``tenant_id`` and starts from ``scoping``."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.pagination import Page
from pforte.store.repos.locking import hold
from pforte.store.repos.paging import keyset_page
from pforte.store.repos.scoping import scoped_count, scoped_delete, scoped_select
from pforte.store.tables import ClientRow


class ClientRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: uuid.UUID, client_id: str) -> ClientRow | None:
        return await self.session.scalar(
            scoped_select(ClientRow, tenant_id).where(ClientRow.client_id == client_id)
        )

    async def by_pk(self, tenant_id: uuid.UUID, pk: uuid.UUID) -> ClientRow | None:
        return await self.session.scalar(scoped_select(ClientRow, tenant_id).where(ClientRow.id == pk))

    async def lock(self, tenant_id: uuid.UUID, client_id: str) -> ClientRow | None:
        """The client, held until this transaction ends (see ``locking``); None if it is gone."""
        stmt = scoped_select(ClientRow, tenant_id).where(ClientRow.client_id == client_id)
        return await hold(self.session, stmt, ClientRow)

    async def page(self, tenant_id: uuid.UUID, *, cursor: str | None, limit: int) -> Page[ClientRow]:
        return await keyset_page(
            self.session, scoped_select(ClientRow, tenant_id), ClientRow.client_id, cursor=cursor, limit=limit
        )

    async def enabled(self, tenant_id: uuid.UUID) -> list[ClientRow]:
        """Every enabled client of the tenant (the system tenant's few, for the lock-out rule)."""
        stmt = (
            scoped_select(ClientRow, tenant_id)
            .where(ClientRow.enabled.is_(True))
            .order_by(ClientRow.client_id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def restricted_to(self, tenant_id: uuid.UUID, role: str) -> list[ClientRow]:
        """The clients whose ``restrictToRole`` names ``role``."""
        stmt = (
            scoped_select(ClientRow, tenant_id)
            .where(ClientRow.restrict_to_role == role)
            .order_by(ClientRow.client_id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def cors_origins(self, tenant_id: uuid.UUID) -> set[str]:
        """Every origin some client of the tenant allows (CORS of the public endpoints)."""
        stmt = (
            scoped_select(ClientRow, tenant_id)
            .with_only_columns(ClientRow.allowed_cors_origins)
            .where(ClientRow.enabled.is_(True))
        )
        return {origin for origins in (await self.session.scalars(stmt)).all() for origin in origins}

    async def count(self, tenant_id: uuid.UUID) -> int:
        return int(await self.session.scalar(scoped_count(ClientRow, tenant_id)) or 0)

    def add(self, row: ClientRow) -> None:
        self.session.add(row)

    async def delete(self, tenant_id: uuid.UUID, client_id: str) -> bool:
        result = await self.session.execute(
            scoped_delete(ClientRow, tenant_id)
            .where(ClientRow.client_id == client_id)
            .returning(ClientRow.id)
        )
        return result.first() is not None
