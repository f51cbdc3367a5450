"""Keyset pagination on one unique indexed column: ``WHERE key > :after ORDER BY key LIMIT n+1``."""

from __future__ import annotations

import sys
import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from pforte.domain.errors import Invalid
from pforte.domain.pagination import Page, decode_cursor, encode_cursor

RowT = TypeVar("RowT")


async def keyset_page(
    session: AsyncSession,
    stmt: Select[RowT],
    key: InstrumentedAttribute[Any],
    *,
    cursor: str | None,
    limit: int,
) -> Page[RowT]:
    after = decode_cursor(cursor)
    if after is not None:
        stmt = stmt.where(key > _key_value(key, after))
    rows = list((await session.scalars(stmt.order_by(key).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(str(getattr(rows[-1], key.key))) if more else None
    return Page(items=rows, next=next_cursor)


def _key_value(key: InstrumentedAttribute[Any], raw: str) -> object:
    if key.type.python_type is uuid.UUID:
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise Invalid("cursor", "is not a cursor this server issued") from None
    return raw


def prefix(column: ColumnElement[str] | InstrumentedAttribute[Any], query: str) -> ColumnElement[bool]:
    """``column`` starts with ``query``: a range, so that a btree index serves it on both
    databases (LIKE 'q%' does not, under PostgreSQL's default collation)."""
    upper = prefix_end(query)
    return column >= query if upper is None else and_(column >= query, column < upper)


def prefix_end(query: str) -> str | None:
    """The least string above every string that starts with ``query`` (None: there is none).
    The last code point that can grow grows by one, skipping the surrogates (no UTF-8 for them)."""
    stem = query.rstrip(chr(sys.maxunicode))
    if not stem:
        return None
    following = ord(stem[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000
    return stem[:-1] + chr(following)
