"""Which of a tenant's signing keys signs now, and which the JWKS publishes (rotation with overlap).

A key row has ``active_from`` (it signs from then on, until a newer key becomes active) and
``retired_at`` (it leaves the JWKS then: set at rotation to when the last token it signed
expires). A new key is published before it signs: its ``active_from`` lies ahead of its creation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar


class KeyTimes(Protocol):
    @property
    def active_from(self) -> datetime: ...

    @property
    def retired_at(self) -> datetime | None: ...


K = TypeVar("K", bound=KeyTimes)


def is_published(key: KeyTimes, now: datetime) -> bool:
    return key.retired_at is None or key.retired_at > now


def published(keys: Sequence[K], now: datetime) -> list[K]:
    """Every key that may still verify a live token (or will soon sign), oldest first."""
    return sorted((k for k in keys if is_published(k, now)), key=lambda k: k.active_from)


def signing_key(keys: Sequence[K], now: datetime) -> K | None:
    """The newest published key whose ``active_from`` has come; None when no key may sign."""
    ready = [k for k in keys if k.active_from <= now and is_published(k, now)]
    return max(ready, key=lambda k: k.active_from, default=None)
