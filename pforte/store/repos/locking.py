"""Holding an aggregate's row for the rest of a transaction, the same way on both databases.

Changes that check an invariant (at most ten live secrets, the rules between a client's
fields, the last holder of ``tenants:admin``) read, validate and write while they hold the
row of the aggregate the invariant belongs to, so that parallel requests run one after the
other instead of each validating a state the other is about to change.

- PostgreSQL: ``SELECT … FOR UPDATE`` (or ``FOR KEY SHARE`` when the caller only needs the row
  to stay: children being added to a parent that must not be deleted meanwhile; ``FOR NO KEY
  UPDATE`` when the change keeps the row's key).
- SQLite: one writer at a time. A no-op ``UPDATE`` of the row makes this transaction the writer
  before anything is read (pysqlite opens the transaction at the first write), so a second
  writer waits at its own first statement (``busy_timeout``) and then reads what the first
  committed. Reads made before it ran outside a transaction, so no stale snapshot is upgraded.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, update
from sqlalchemy.ext.asyncio import AsyncSession

RowT = TypeVar("RowT")


async def hold(
    session: AsyncSession,
    stmt: Select[RowT],
    table: type[Any],
    *,
    shared: bool = False,
    keeps_key: bool = False,
) -> RowT | None:
    """Run ``stmt`` (which selects rows of ``table``) holding the rows it names; fresh values,
    not those this session may have read before. On SQLite the no-op ``UPDATE`` takes the
    ``WHERE`` of ``stmt`` itself, so it names exactly the rows the select does (for a
    tenant-owned row: the tenant's, as ``scoping.scoped_select`` wrote it).

    ``keeps_key``: the change will not touch the row's key, so PostgreSQL takes ``FOR NO KEY
    UPDATE``, which lets rows that refer to it be inserted meanwhile (their foreign-key check
    takes ``FOR KEY SHARE``). Without it, disabling a user deadlocked with a refresh of the
    user's token: the refresh held the session row its new token refers to and waited for the
    user row; the disabling held the user row and waited to delete that session."""
    if session.get_bind().dialect.name == "sqlite":
        where = stmt.whereclause
        assert where is not None, "a lock names its rows"
        core = table.__table__
        pk = core.primary_key.columns[0]
        await session.execute(update(core).where(where).values({pk.name: pk}))
        locked = stmt
    else:
        locked = stmt.with_for_update(read=shared, key_share=shared or keeps_key)
    return await session.scalar(locked.execution_options(populate_existing=True))
