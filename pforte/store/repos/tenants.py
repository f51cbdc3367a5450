"""Tenants (not tenant-owned themselves, so ``TenantRepo`` is not scoped) and their signing keys
(tenant-owned: ``SigningKeyRepo`` starts from ``scoping``)."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.pagination import Page
from pforte.store.repos.locking import hold
from pforte.store.repos.paging import keyset_page
from pforte.store.repos.scoping import scoped_delete, scoped_select
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

    async def lock(self, tenant_id: uuid.UUID, *, shared: bool = False) -> TenantRow | None:
        """The tenant's row, held until this transaction ends (None if it is gone).

        Exclusive: every other writer of the tenant waits. Shared: the tenant cannot be deleted
        meanwhile, while other shared holders (children being added) go on (``FOR KEY SHARE``).
        SQLite has one writer at a time: a write that makes this transaction the writer, before
        anything is read, serialises both kinds."""
        stmt = select(TenantRow).where(TenantRow.id == tenant_id)
        return await hold(self.session, stmt, TenantRow, shared=shared)

    async def with_keys_older_than(self, created_before: datetime) -> list[uuid.UUID]:
        """Every tenant whose newest signing key was made before ``created_before`` (or that has
        none): the candidates of automatic rotation, across tenants (so not ``scoping``'s)."""
        newest = func.max(SigningKeyRow.created_at)
        stmt = (
            select(TenantRow.id)
            .outerjoin(SigningKeyRow, SigningKeyRow.tenant_id == TenantRow.id)
            .group_by(TenantRow.id)
            .having(or_(newest.is_(None), newest < created_before))
            .order_by(TenantRow.id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def all(self) -> list[TenantRow]:
        """Every tenant, by slug (start-up work across tenants: the consoles' clients)."""
        return list((await self.session.scalars(select(TenantRow).order_by(TenantRow.slug))).all())

    async def existing(self, ids: set[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``ids`` that name a tenant (what a batch may still be written for)."""
        if not ids:
            return set()
        return set((await self.session.scalars(select(TenantRow.id).where(TenantRow.id.in_(ids)))).all())

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
        stmt = scoped_select(SigningKeyRow, tenant_id).order_by(SigningKeyRow.created_at)
        return list((await self.session.scalars(stmt)).all())

    async def delete_retired_before(self, tenant_id: uuid.UUID, moment: datetime) -> builtins.list[str]:
        """Delete the tenant's keys that left the JWKS before ``moment``; their kids."""
        stmt = (
            scoped_delete(SigningKeyRow, tenant_id)
            .where(SigningKeyRow.retired_at < moment)
            .returning(SigningKeyRow.kid)
        )
        return sorted((await self.session.scalars(stmt)).all())
