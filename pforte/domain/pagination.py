"""Cursor pagination: opaque cursors over a unique, indexed sort key (no OFFSET)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pforte.domain.errors import Invalid
from pforte.domain.text import has_control

T = TypeVar("T")
U = TypeVar("U")
DEFAULT_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with every item converted (a row to a record, a record to a model)."""
        return Page(items=[convert(item) for item in self.items], next=self.next)


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = ""
    # Sort keys (slugs, clientIds, UUIDs) hold no control character: a cursor that decodes to one
    # was not issued here, and must not reach the database (PostgreSQL refuses NUL).
    if not key or has_control(key) or encode_cursor(key) != cursor:
        raise Invalid("cursor", "is not a cursor this server issued")
    return key


def check_limit(limit: int | None, maximum: int) -> int:
    if limit is None:
        return min(DEFAULT_LIMIT, maximum)
    if not 1 <= limit <= maximum:
        raise Invalid("limit", f"must be between 1 and {maximum}")
    return limit
