"""Tenants (not tenant-owned themselves) and their signing keys (tenant-owned)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.pagination import Page
from pforte.store.repos.paging import keyset_page
from pforte.store.tables import SigningKeyRow, TenantRow


class TenantRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, ref: str) -> TenantRow | None:
        """By slug, or by id when ``ref`` is a UUID (the Vantage API addresses tenants by id)."""
        try:
            tenant_id = uuid.UUID(ref)
        except ValueError:
            return await self.session.scalar(select(TenantRow).where(TenantRow.slug == ref))
        return await self.session.get(TenantRow, tenant_id)

    async def get_by_slug(self, slug: str) -> TenantRow | None:
        return await self.session.scalar(select(TenantRow).where(TenantRow.slug == slug))

    async def page(self, *, cursor: str | None, limit: int) -> Page[TenantRow]:
        return await keyset_page(self.session, select(TenantRow), TenantRow.slug, cursor=cursor, limit=limit)

    def add(self, row: TenantRow) -> None:
        self.session.add(row)

    async def delete(self, tenant_id: uuid.UUID) -> None:
        # Every tenant-owned row goes with it (ON DELETE CASCADE).
        await self.session.execute(delete(TenantRow).where(TenantRow.id == tenant_id))


class SigningKeyRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: SigningKeyRow) -> None:
        self.session.add(row)

    async def list(self, tenant_id: uuid.UUID) -> list[SigningKeyRow]:
        stmt = select(SigningKeyRow).where(SigningKeyRow.tenant_id == tenant_id)
        return list((await self.session.scalars(stmt.order_by(SigningKeyRow.created_at))).all())
