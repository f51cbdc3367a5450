"""Which of a tenant's signing keys signs now, and which the JWKS publishes (rotation with overlap).

A key row has ``active_from`` (it signs from then on, until a newer key becomes active) and
``retired_at`` (it leaves the JWKS then: set at rotation to when the last token it signed
expires). A new key is published before it signs: its ``active_from`` lies ahead of its creation.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from pforte.domain.clients import MAX_ACCESS_TOKEN_LIFETIME

# The longest access token a client can be given (the validation maximum of accessTokenLifetime):
# a token signed the moment before a key stops signing lives at most this long.
LONGEST_TOKEN = timedelta(seconds=MAX_ACCESS_TOKEN_LIFETIME)
# Clock skew between the servers that sign and the parties that verify.
LEEWAY = timedelta(seconds=60)
# A key retired this long ago is deleted (at the next rotation): its private half must not linger.
PURGE_AFTER = timedelta(days=1)


class KeyTimes(Protocol):
    @property
    def active_from(self) -> datetime: ...

    @property
    def retired_at(self) -> datetime | None: ...


K = TypeVar("K", bound=KeyTimes)


@dataclass(frozen=True, slots=True)
class SigningKeyRecord:
    """A signing key as the services hand it out: its public half and its times (the sealed
    private half stays in the store)."""

    id: uuid.UUID
    kid: str
    alg: str
    public_jwk: dict[str, Any]
    created_at: datetime
    active_from: datetime
    retired_at: datetime | None


# The members of a key's JWK that may be published (an allow-list, not a deny-list).
PUBLIC_MEMBERS = frozenset({"kty", "kid", "alg", "use", "crv", "x", "y", "n", "e"})


def public_members(jwk: dict[str, Any]) -> dict[str, Any]:
    """The JWK with only its public members: what a JWK Set may show of it."""
    return {name: value for name, value in jwk.items() if name in PUBLIC_MEMBERS}


def is_published(key: KeyTimes, now: datetime) -> bool:
    return key.retired_at is None or key.retired_at > now


def published(keys: Sequence[K], now: datetime) -> list[K]:
    """Every key that may still verify a live token (or will soon sign), oldest first."""
    return sorted((k for k in keys if is_published(k, now)), key=lambda k: k.active_from)


def signing_key(keys: Sequence[K], now: datetime) -> K | None:
    """The newest published key whose ``active_from`` has come; None when no key may sign."""
    ready = [k for k in keys if k.active_from <= now and is_published(k, now)]
    return max(ready, key=lambda k: k.active_from, default=None)


class KeyStatus(StrEnum):
    NEXT = "next"  # published, not yet signing
    ACTIVE = "active"  # signing now
    RETIRING = "retiring"  # published, no longer signs: verifies what it signed until retired_at
    RETIRED = "retired"  # gone from the JWKS


def status(key: K, keys: Sequence[K], now: datetime) -> KeyStatus:
    """What ``key`` (one of the tenant's ``keys``) does at ``now``."""
    if not is_published(key, now):
        return KeyStatus.RETIRED
    if key.active_from > now:
        return KeyStatus.NEXT
    return KeyStatus.ACTIVE if signing_key(keys, now) is key else KeyStatus.RETIRING


def superseded(keys: Sequence[K], successor_active_from: datetime, now: datetime) -> tuple[list[K], list[K]]:
    """What a rotation does to the tenant's other ``keys`` when the new key signs from
    ``successor_active_from``: ``(retire, withdraw)``.

    ``retire``: every published key without a retirement; it gets ``retirement(...)``.
    ``withdraw``: every published key due to start signing after the new key (made ahead under a
    longer PFORTE_KEY_PUBLISH_AHEAD): it would outrank the new key, yet has signed nothing, so it
    leaves the JWKS now (``retired_at = now``).
    """
    live = published(keys, now)
    withdraw = [k for k in live if k.active_from > successor_active_from]
    retire = [k for k in live if k.retired_at is None and k.active_from <= successor_active_from]
    return retire, withdraw


def retirement(successor_active_from: datetime) -> datetime:
    """When a key that stops signing at ``successor_active_from`` may leave the JWKS: once the
    last token it can have signed has expired, whatever the client's accessTokenLifetime."""
    return successor_active_from + LONGEST_TOKEN + LEEWAY


def rotation_due(newest_created: datetime | None, now: datetime, interval: timedelta) -> bool:
    """Whether a tenant whose newest key was made at ``newest_created`` needs a new one."""
    return newest_created is None or now - newest_created > interval
