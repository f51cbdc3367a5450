"""Audit events of a tenant; every read starts from ``scoping``."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.errors import Invalid
from pforte.domain.event_log import EventFilter
from pforte.domain.ids import first_id_at
from pforte.domain.pagination import Page, decode_cursor, encode_cursor
from pforte.store.repos.paging import prefix
from pforte.store.repos.scoping import scoped_delete, scoped_select
from pforte.store.tables import AuditEventRow

# What ``add_many`` takes, in this order: id (32 hex digits), tenant id (hex), name, actor, actor's
# tenant, actor's client id, target type, target id, changes (JSON text), request id, created at
# (aware, UTC), client id, user id (hex). Ids as hex and the JSON as text: what the event buffer
# makes once per row, and both drivers take as they are.
COLUMNS = (
    "id",
    "tenant_id",
    "name",
    "actor",
    "actor_tenant",
    "actor_client_id",
    "target_type",
    "target_id",
    "changes",
    "request_id",
    "created_at",
    "client_id",
    "user_id",
)
EventValues = tuple[
    str,
    str,
    str,
    str,
    str,
    str | None,
    str,
    str,
    str,
    str | None,
    datetime,
    str | None,
    str | None,
]
# SQLite: rows per INSERT statement, at most. A batch goes as statements of 64, 32, … 1
# rows, so only seven statement texts exist, small, and the driver's statement cache keeps them.
SQLITE_ROWS = 64
_SQLITE_MARKS = "(" + ", ".join("?" * len(COLUMNS)) + ")"


def _sqlite_insert(rows: int) -> str:
    values = ", ".join([_SQLITE_MARKS] * rows)
    return f"INSERT INTO audit_events ({', '.join(COLUMNS)}) VALUES {values}"  # noqa: S608 - no input


def _parts(count: int) -> list[tuple[int, int]]:
    """(start, size) of consecutive parts of ``count`` rows, each a power of two ≤ SQLITE_ROWS."""
    parts = []
    start = 0
    size = SQLITE_ROWS
    while start < count:
        while size > count - start:
            size //= 2
        parts.append((start, size))
        start += size
    return parts


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: AuditEventRow) -> None:
        self.session.add(row)

    async def add_many(self, rows: builtins.list[EventValues]) -> None:
        """Rows (each carrying its tenant) straight to the driver (``services.event_buffer``:
        thousands a second). SQLite: multi-row INSERTs, so the driver's thread binds a part's
        values and runs it in one step (an executemany takes and gives back the GIL for every
        row, which the event loop's thread paid for in switches); PostgreSQL: one executemany,
        which asyncpg pipelines on the event loop's thread."""
        if not rows:
            return
        connection = await self.session.connection()
        if connection.dialect.name == "sqlite":
            for start, size in _parts(len(rows)):
                values = [
                    value
                    for r in rows[start : start + size]
                    for value in (
                        *r[:10],
                        r[10].astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds"),
                        r[11],
                        r[12],
                    )
                ]
                await connection.exec_driver_sql(_sqlite_insert(size), tuple(values))
            return
        marks = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
        sql = f"INSERT INTO audit_events ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608 - no input
        await connection.exec_driver_sql(sql, rows)

    async def list(
        self, tenant_id: uuid.UUID, *, limit: int = 100, name_prefix: str = ""
    ) -> builtins.list[AuditEventRow]:
        """The newest events, those whose name starts with ``name_prefix`` when given."""
        stmt = scoped_select(AuditEventRow, tenant_id)
        if name_prefix:
            stmt = stmt.where(prefix(AuditEventRow.name, name_prefix))
        stmt = stmt.order_by(AuditEventRow.id.desc()).limit(limit)
        return builtins.list((await self.session.scalars(stmt)).all())

    async def page(
        self, tenant_id: uuid.UUID, wanted: EventFilter, *, cursor: str | None, limit: int
    ) -> Page[AuditEventRow]:
        """The events ``wanted`` describes, newest first (ids are UUIDv7: by time), from after
        ``cursor``: ``WHERE id < :cursor ORDER BY id DESC`` on an index led by the tenant."""
        stmt = scoped_select(AuditEventRow, tenant_id)
        if wanted.types:
            stmt = stmt.where(
                or_(
                    AuditEventRow.name.in_(wanted.names),
                    *(prefix(AuditEventRow.name, p) for p in wanted.prefixes),
                )
            )
        if wanted.client_id is not None:
            stmt = stmt.where(AuditEventRow.client_id == wanted.client_id)
        if wanted.user_id is not None:
            stmt = stmt.where(AuditEventRow.user_id == uuid.UUID(wanted.user_id))
        # The id holds the time (``ids.id_at``): a time range is an id range on the same index.
        if wanted.since is not None:
            stmt = stmt.where(
                AuditEventRow.id >= first_id_at(wanted.since), AuditEventRow.created_at >= wanted.since
            )
        if wanted.until is not None:
            stmt = stmt.where(
                AuditEventRow.id < first_id_at(wanted.until), AuditEventRow.created_at < wanted.until
            )
        after = decode_cursor(cursor)
        if after is not None:
            stmt = stmt.where(AuditEventRow.id < _cursor_id(after))
        rows = builtins.list(
            (await self.session.scalars(stmt.order_by(AuditEventRow.id.desc()).limit(limit + 1))).all()
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(items=rows, next=encode_cursor(str(rows[-1].id)) if more else None)

    async def delete_before(self, tenant_id: uuid.UUID, before: datetime, *, limit: int) -> int:
        """Delete at most ``limit`` of the tenant's events written before ``before`` (the oldest
        first): a short statement, so that retention never holds a long lock. How many went."""
        oldest = (
            select(AuditEventRow.id)
            .where(AuditEventRow.tenant_id == tenant_id, AuditEventRow.id < first_id_at(before))
            .order_by(AuditEventRow.id)
            .limit(limit)
        )
        result = await self.session.execute(
            scoped_delete(AuditEventRow, tenant_id)
            .where(AuditEventRow.id.in_(oldest.scalar_subquery()))
            .returning(AuditEventRow.id)
        )
        return len(result.all())

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
                    AuditEventRow.target_id.in_(builtins.list(credential_ids)),
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
        return builtins.list((await self.session.scalars(stmt)).all())


def _cursor_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise Invalid("cursor", "is not a cursor this server issued") from None
