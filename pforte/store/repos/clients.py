"""Clients of a tenant. Every method takes ``tenant_id`` and starts from ``scoping``."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.errors import Invalid
from pforte.domain.pagination import Page, decode_cursor, encode_cursor
from pforte.store.repos.locking import hold
from pforte.store.repos.paging import keyset_page, prefix
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

    async def across_tenants(self, client_ids: Collection[str]) -> list[ClientRow]:
        """The clients with these ids in every tenant (the consoles' built-in clients, checked
        at start-up)."""
        stmt = select(ClientRow).where(ClientRow.client_id.in_(list(client_ids)))
        return list((await self.session.scalars(stmt)).all())

    async def for_account(self, tenant_id: uuid.UUID, pks: Collection[uuid.UUID]) -> list[ClientRow]:
        """The clients a user's account console lists: those shown there always
        (``showInAccountConsole``) and those among ``pks`` (granted or in use), by name."""
        listed = ClientRow.show_in_account_console.is_(True) & ClientRow.enabled.is_(True)
        wanted = or_(listed, ClientRow.id.in_(list(pks))) if pks else listed
        stmt = scoped_select(ClientRow, tenant_id).where(wanted).order_by(ClientRow.client_id)
        return list((await self.session.scalars(stmt)).all())

    async def listing(
        self, tenant_id: uuid.UUID, *, query: str, sort: str, cursor: str | None, limit: int
    ) -> Page[ClientRow]:
        """A page of the tenant's clients whose clientId or name starts with ``query`` (any case),
        ordered by ``sort`` ("name", "clientId", or "created": newest first)."""
        keys: tuple[Any, ...] = {
            "name": (NAME_KEY, ClientRow.client_id),
            "clientId": (ClientRow.client_id,),
            "created": (ClientRow.created_at, ClientRow.client_id),
        }[sort]
        stmt = scoped_select(ClientRow, tenant_id)
        if query:
            folded = query.lower()
            stmt = stmt.where(or_(prefix(func.lower(ClientRow.client_id), folded), prefix(NAME_KEY, folded)))
        after = _after(cursor, len(keys), timestamp=sort == "created")
        descending = sort == "created"
        if after is not None:
            # The row comparison is the keyset; the bound on the first key alone is what lets
            # SQLite start the index range there (it does not use a row comparison for that, and
            # a deep page would scan from the start).
            position = tuple_(*keys)
            if descending:
                stmt = stmt.where(keys[0] <= after[0], position < tuple_(*after))
            else:
                stmt = stmt.where(keys[0] >= after[0], position > tuple_(*after))
        order = [k.desc() for k in keys] if descending else list(keys)
        rows = list((await self.session.scalars(stmt.order_by(*order).limit(limit + 1))).all())
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if more:
            last = rows[-1]
            values: list[str] = {
                "name": [(last.client_name or last.client_id).lower(), last.client_id],
                "clientId": [last.client_id],
                "created": [last.created_at.isoformat(), last.client_id],
            }[sort]
            next_cursor = encode_cursor(orjson.dumps(values).decode())
        return Page(items=rows, next=next_cursor)

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


# The console's list: sort orders over an index each, keyset pages, a prefix search. -------------

NAME_KEY = func.lower(func.coalesce(ClientRow.client_name, ClientRow.client_id))


def _after(cursor: str | None, size: int, *, timestamp: bool) -> list[Any] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        values = orjson.loads(raw)
    except orjson.JSONDecodeError:
        values = None
    if not isinstance(values, list) or len(values) != size or not all(isinstance(v, str) for v in values):
        raise Invalid("cursor", "is not a cursor this server issued")
    if timestamp:
        try:
            values[0] = datetime.fromisoformat(values[0])
        except ValueError:
            raise Invalid("cursor", "is not a cursor this server issued") from None
    return values
