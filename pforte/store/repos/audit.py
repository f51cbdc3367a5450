"""Audit events of a tenant; every read starts from ``scoping``."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Collection
from datetime import datetime
from itertools import chain
from typing import Final

import orjson
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clock import from_epoch_micros
from pforte.domain.errors import Invalid
from pforte.domain.event_log import EventFilter
from pforte.domain.events import EventName
from pforte.domain.ids import first_id_at, id_hex_of_micros
from pforte.domain.pagination import Page, decode_cursor, encode_cursor
from pforte.store.repos.paging import prefix
from pforte.store.repos.scoping import scoped_delete, scoped_select
from pforte.store.tables import AuditEventRow

# The token endpoint's events as ``services.event_buffer`` notes them (thousands a second), in
# this order: name (``token.issued`` or ``client.authentication_failed``), tenant id (hex),
# tenant slug, moment (microseconds since 1970, UTC: ``clock.epoch_micros``), client id (the
# authenticated one, or what a failed authentication sent), user id (``str(uuid)``) or None, grant type
# (or the failure's reason), scope, jti, request id. ``add_batched`` makes the rows of
# ``audit_events`` from these values: on SQLite in the statement, in C (the id — a UUIDv7 of the
# moment with random bits, as ``ids.id_at`` — the time's text, the actor, the target and the
# changes as JSON), on PostgreSQL in Python (``batched_rows``). The two give the same rows.
BatchedEvent = tuple[str, str, str, int, str, str | None, str, str | None, str | None, str | None]
TOKEN_ISSUED: Final = EventName.TOKEN_ISSUED.value
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
# A row of COLUMNS for PostgreSQL: ids as hex and the changes as JSON text, which asyncpg takes
# as they are; the time aware.
EventValues = tuple[
    str, str, str, str, str, str | None, str, str, str, str | None, datetime, str | None, str | None
]


def batched_rows(events: Collection[BatchedEvent]) -> builtins.list[EventValues]:
    """The rows of ``events`` (what the SQLite statement below makes of them, made in Python)."""
    rows: builtins.list[EventValues] = []
    dumps = orjson.dumps
    for name, tenant, slug, micros, client_id, user, detail, scope, jti, request_id in events:
        changes: dict[str, str | None]
        actor_client_id: str | None
        client: str | None
        if name == TOKEN_ISSUED:
            changes = {"clientId": client_id, "grantType": detail, "scope": scope, "jti": jti}
            if user is not None:
                changes["userId"] = user
            actor, actor_client_id, client = f"client:{client_id}", client_id, client_id
            target_type, target_id = "access_token", jti or ""
        else:
            changes = {"clientId": client_id, "reason": detail}
            actor, actor_client_id, client = "anonymous:-", None, client_id or None
            target_type, target_id = "client_authentication", client_id
        rows.append(
            (
                id_hex_of_micros(micros),
                tenant,
                name,
                actor,
                slug,
                actor_client_id,
                target_type,
                target_id,
                dumps(changes).decode(),
                request_id,
                from_epoch_micros(micros),
                client,
                None if user is None else uuid.UUID(user).hex,
            )
        )
    return rows


# SQLite: rows go in parts of SQLITE_ROWS, each one multi-row INSERT, so the driver's thread
# binds a part's values and runs it in one step, taking the GIL once. (An executemany takes it
# back for every row — the event loop's thread paid for that in switches — and parts of a few
# rows each cost a round trip to the driver's thread: under full load the flush fell behind.)
# Parts hold 256, 64 or 16 rows — the largest that the rows left fill — and the last is filled
# up with rows of NULLs, which the statement leaves out: three statement texts, prepared once
# per connection, and at most 15 empty rows a batch. The statement makes each row from the
# noted values (``column1`` … ``column10`` of the VALUES, in BatchedEvent's order):
SQLITE_ROWS = 256
PART_SIZES = (SQLITE_ROWS, 64, 16)
_WIDTH = len(BatchedEvent.__args__)  # type: ignore[attr-defined]
_ISSUED = f"column1 = '{TOKEN_ISSUED}'"
_SQLITE_MADE = {
    # UUIDv7: 48 bits of milliseconds, version 7, the millisecond's fraction in 12 bits, then
    # variant 0b10 and 62 random bits (``ids._micros_bits``).
    "id": "printf('%012x7%03x%016x', column4 / 1000, (column4 % 1000) * 4096 / 1000, "
    "(random() & 4611686018427387903) | (1 << 63))",
    "tenant_id": "column2",
    "name": "column1",
    "actor": f"CASE WHEN {_ISSUED} THEN 'client:' || column5 ELSE 'anonymous:-' END",
    "actor_tenant": "column3",
    "actor_client_id": f"CASE WHEN {_ISSUED} THEN column5 END",
    "target_type": f"CASE WHEN {_ISSUED} THEN 'access_token' ELSE 'client_authentication' END",
    "target_id": f"CASE WHEN {_ISSUED} THEN coalesce(column9, '') ELSE column5 END",
    "changes": f"CASE WHEN NOT {_ISSUED} THEN json_object('clientId', column5, 'reason', column7) "
    "WHEN column6 IS NULL THEN json_object('clientId', column5, 'grantType', column7, 'scope', column8, "
    "'jti', column9) ELSE json_object('clientId', column5, 'grantType', column7, 'scope', column8, "
    "'jti', column9, 'userId', column6) END",
    "request_id": "column10",
    # SQLAlchemy's text of a time on SQLite: "YYYY-MM-DD HH:MM:SS.ffffff", UTC.
    "created_at": "strftime('%Y-%m-%d %H:%M:%S', column4 / 1000000, 'unixepoch') "
    "|| printf('.%06d', column4 % 1000000)",
    "client_id": f"CASE WHEN {_ISSUED} THEN column5 ELSE nullif(column5, '') END",
    "user_id": "replace(column6, '-', '')",  # the hex of Uuid columns on SQLite
}
_SQLITE_ROW = "(" + ", ".join("?" * _WIDTH) + ")"


def _sqlite_insert(rows: int) -> str:
    return (
        f"INSERT INTO audit_events ({', '.join(COLUMNS)}) "  # noqa: S608 - no input
        f"SELECT {', '.join(_SQLITE_MADE[column] for column in COLUMNS)} "
        f"FROM (VALUES {', '.join([_SQLITE_ROW] * rows)}) WHERE column1 IS NOT NULL"
    )


SQLITE_INSERTS = {rows: _sqlite_insert(rows) for rows in PART_SIZES}
_NO_ROW = (None,) * _WIDTH
PG_INSERT = (
    f"INSERT INTO audit_events ({', '.join(COLUMNS)}) "  # noqa: S608 - no input
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(COLUMNS) + 1))})"
)


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: AuditEventRow) -> None:
        self.session.add(row)

    async def add_batched(self, events: builtins.list[BatchedEvent]) -> None:
        """The token endpoint's events, as noted (``services.event_buffer``: thousands a second),
        each carrying its tenant: on SQLite in multi-row parts whose statement makes the rows, on
        PostgreSQL as one executemany of ``batched_rows``, which asyncpg pipelines."""
        if not events:
            return
        connection = await self.session.connection()
        if connection.dialect.name != "sqlite":
            await connection.exec_driver_sql(PG_INSERT, batched_rows(events))
            return
        start = 0
        while start < len(events):
            size = next((size for size in PART_SIZES if size <= len(events) - start), PART_SIZES[-1])
            part = events[start : start + size]
            start += size
            values = tuple(chain.from_iterable(part)) + _NO_ROW * (size - len(part))  # flat, in C
            await connection.exec_driver_sql(SQLITE_INSERTS[size], values)

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
