"""Client secrets and API keys. Every method takes ``tenant_id`` and starts from ``scoping`` —
except ``ApiKeyRepo.authenticate``, which resolves the tenant from the key's hash."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.pagination import Page
from pforte.store.repos.paging import keyset_page
from pforte.store.repos.scoping import scoped_count, scoped_delete, scoped_select, scoped_update
from pforte.store.tables import ApiKeyRow, ClientRow, ClientSecretRow, TenantRow

CredT = TypeVar("CredT", ClientSecretRow, ApiKeyRow)


class _CredentialRepo(Generic[CredT]):
    row: type[CredT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _of_client(self, tenant_id: uuid.UUID, client_pk: uuid.UUID) -> Select[CredT]:
        return scoped_select(self.row, tenant_id).where(self.row.client_pk == client_pk)

    async def get(self, tenant_id: uuid.UUID, client_pk: uuid.UUID, credential_id: uuid.UUID) -> CredT | None:
        return await self.session.scalar(
            self._of_client(tenant_id, client_pk).where(self.row.id == credential_id)
        )

    async def page(
        self, tenant_id: uuid.UUID, client_pk: uuid.UUID, *, cursor: str | None, limit: int
    ) -> Page[CredT]:
        # Ids are UUIDv7, so the primary key orders by creation time.
        return await keyset_page(
            self.session, self._of_client(tenant_id, client_pk), self.row.id, cursor=cursor, limit=limit
        )

    def add(self, row: CredT) -> None:
        self.session.add(row)

    async def delete(self, tenant_id: uuid.UUID, client_pk: uuid.UUID, credential_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            scoped_delete(self.row, tenant_id)
            .where(self.row.client_pk == client_pk, self.row.id == credential_id)
            .returning(self.row.id)
        )
        return result.first() is not None

    async def mark_expiring(
        self, tenant_id: uuid.UUID, now: datetime, until: datetime
    ) -> list[tuple[CredT, str]]:
        """Mark the credentials that expire in ``(now, until]`` and were not marked yet, and
        return them with their client's clientId. One ``UPDATE … WHERE expiry_warned_at IS
        NULL … RETURNING``: of processes running it at once, each credential goes to one."""
        marked = await self.session.execute(
            scoped_update(self.row, tenant_id)
            .where(
                self.row.expiry_warned_at.is_(None),
                self.row.expiration > now,
                self.row.expiration <= until,
            )
            .values(expiry_warned_at=now)
            .returning(self.row.id)
            .execution_options(synchronize_session=False)
        )
        ids = [row.id for row in marked]
        if not ids:
            return []
        stmt = (
            scoped_select(self.row, tenant_id)
            .add_columns(ClientRow.client_id)
            .join(ClientRow, ClientRow.id == self.row.client_pk)
            .where(self.row.id.in_(ids))
            .order_by(self.row.id)
        )
        return [(row, client_id) for row, client_id in (await self.session.execute(stmt)).all()]

    async def touch(self, tenant_id: uuid.UUID, credential_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            scoped_update(self.row, tenant_id).where(self.row.id == credential_id).values(last_used_at=at)
        )


class SecretRepo(_CredentialRepo[ClientSecretRow]):
    row = ClientSecretRow

    async def all_of(self, tenant_id: uuid.UUID, client_pk: uuid.UUID) -> list[ClientSecretRow]:
        """Every secret of the client, whatever its window (the cache checks windows per request)."""
        return list((await self.session.scalars(self._of_client(tenant_id, client_pk))).all())

    async def touch_many(self, uses: list[tuple[uuid.UUID, uuid.UUID, datetime]]) -> None:
        """``lastUsedAt`` of several secrets at once — (tenant id, secret id, when) — as one
        executemany of one statement, not a statement per secret. Run on the session's connection:
        given a list of parameters, ``Session.execute`` would make an ORM update a bulk update by
        primary key instead."""
        if not uses:
            return
        stmt = (
            scoped_update(ClientSecretRow, bindparam("b_tenant"))
            .where(ClientSecretRow.id == bindparam("b_id"))
            .values(last_used_at=bindparam("b_at"))
        )
        params = [{"b_tenant": t, "b_id": i, "b_at": at} for t, i, at in uses]
        await (await self.session.connection()).execute(stmt, params)

    async def count_live(self, tenant_id: uuid.UUID, client_pk: uuid.UUID, now: datetime) -> int:
        stmt = scoped_count(ClientSecretRow, tenant_id).where(
            ClientSecretRow.client_pk == client_pk, ClientSecretRow.expiration > now
        )
        return int(await self.session.scalar(stmt) or 0)


class ApiKeyRepo(_CredentialRepo[ApiKeyRow]):
    row = ApiKeyRow

    async def live(self, tenant_id: uuid.UUID, client_pk: uuid.UUID, now: datetime) -> list[ApiKeyRow]:
        """The client's keys that have not expired at ``now``."""
        stmt = self._of_client(tenant_id, client_pk).where(
            (ApiKeyRow.expiration.is_(None)) | (ApiKeyRow.expiration > now)
        )
        return list((await self.session.scalars(stmt)).all())

    async def authenticate(self, value_hash: str) -> tuple[ApiKeyRow, ClientRow, TenantRow] | None:
        """The key with this hash, its client and its tenant: the one look-up that is not
        scoped by a tenant (``scoping``), because it is how the caller's tenant becomes known."""
        stmt = (
            select(ApiKeyRow, ClientRow, TenantRow)
            .join(
                ClientRow,
                (ClientRow.id == ApiKeyRow.client_pk) & (ClientRow.tenant_id == ApiKeyRow.tenant_id),
            )
            .join(TenantRow, TenantRow.id == ApiKeyRow.tenant_id)
            .where(ApiKeyRow.value_hash == value_hash)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1], row[2])
