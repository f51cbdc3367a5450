"""Audit events of a tenant; every read starts from ``scoping``."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from itertools import chain
from typing import Final

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clock import SecondText, epoch_second
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
CREATED_AT: Final = 10  # COLUMNS.index("created_at"), a literal for the type checker
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


# SQLite: rows go in parts of SQLITE_ROWS, each one multi-row INSERT, so the driver's thread
# binds a part's values and runs it in one step, taking the GIL once. (An executemany takes it
# back for every row — the event loop's thread paid for that in switches — and parts of a few
# rows each cost a round trip to the driver's thread: under full load the flush fell behind.)
# Parts hold 256, 64 or 16 rows — the largest that the rows left fill — and the last is filled
# up with rows of NULLs, which the statement leaves out: three statement texts, prepared once
# per connection, and at most 15 empty rows a batch.
SQLITE_ROWS = 256
PART_SIZES = (SQLITE_ROWS, 64, 16)
_SQLITE_ROW = "(" + ", ".join("?" * len(COLUMNS)) + ")"


def _sqlite_insert(rows: int) -> str:
    return (
        f"INSERT INTO audit_events ({', '.join(COLUMNS)}) "  # noqa: S608 - no input
        f"SELECT * FROM (VALUES {', '.join([_SQLITE_ROW] * rows)}) WHERE column1 IS NOT NULL"
    )


SQLITE_INSERTS = {rows: _sqlite_insert(rows) for rows in PART_SIZES}
_NO_ROW = (None,) * len(COLUMNS)
PG_INSERT = (
    f"INSERT INTO audit_events ({', '.join(COLUMNS)}) "  # noqa: S608 - no input
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(COLUMNS) + 1))})"
)


_SQLITE_SECOND = SecondText("%Y-%m-%d %H:%M:%S")


def _sqlite_time(moment: datetime) -> str:
    """SQLAlchemy's text form of a time on SQLite: UTC, "YYYY-MM-DD HH:MM:SS.ffffff" (the date
    and time made once a second: thousands of rows a second share it)."""
    if moment.tzinfo is not UTC:  # the clock's times are UTC already: no conversion for them
        moment = moment.astimezone(UTC)
    return f"{_SQLITE_SECOND(epoch_second(moment))}.{moment.microsecond:06d}"


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: AuditEventRow) -> None:
        self.session.add(row)

    async def add_many(self, rows: builtins.list[EventValues]) -> None:
        """Rows (each carrying its tenant) straight to the driver (``services.event_buffer``:
        thousands a second): on SQLite in multi-row parts, on PostgreSQL as one executemany,
        which asyncpg pipelines on the event loop's thread."""
        if not rows:
            return
        connection = await self.session.connection()
        if connection.dialect.name != "sqlite":
            await connection.exec_driver_sql(PG_INSERT, rows)
            return
        start = 0
        while start < len(rows):
            size = next((size for size in PART_SIZES if size <= len(rows) - start), PART_SIZES[-1])
            part = rows[start : start + size]
            start += size
            # Flattened in C, then the times (every len(COLUMNS)-th value) in SQLite's text form.
            values: builtins.list[object] = builtins.list(chain.from_iterable(part))
            values[CREATED_AT :: len(COLUMNS)] = [_sqlite_time(row[CREATED_AT]) for row in part]
            values += _NO_ROW * (size - len(part))
            await connection.exec_driver_sql(SQLITE_INSERTS[size], tuple(values))

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
