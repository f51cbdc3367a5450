"""Identifiers: the patterns of tenant slugs, client ids and tenant references, and
time-ordered UUIDs."""

from __future__ import annotations

import os
import random
import re
import threading
import time
import uuid
from datetime import datetime

from pforte.domain.clock import epoch_micros
from pforte.domain.errors import Invalid

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
CLIENT_ID_RE = re.compile(r"[A-Za-z0-9._~-]{1,128}")
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# The same patterns as JSON Schema (ECMA-262) declares them: anchored.
SLUG_PATTERN = f"^{SLUG_RE.pattern}$"
CLIENT_ID_PATTERN = f"^{CLIENT_ID_RE.pattern}$"
UUID_PATTERN = UUID_RE.pattern
TENANT_REF_PATTERN = f"^(?:{SLUG_RE.pattern}|{UUID_PATTERN})$"
SYSTEM_TENANT = "system"


def is_slug(value: str) -> bool:
    return SLUG_RE.fullmatch(value) is not None


def is_client_id(value: str) -> bool:
    # The id must be addressable as one URL path segment: "." and ".." are not.
    return CLIENT_ID_RE.fullmatch(value) is not None and value not in {".", ".."}


def is_tenant_ref(value: str) -> bool:
    """A tenant is addressed by its slug or by its id (a UUID, as the Vantage API does)."""
    return is_slug(value) or UUID_RE.fullmatch(value) is not None


def check_slug(slug: str, *, field: str = "slug") -> str:
    if not is_slug(slug):
        raise Invalid(field, "must match [a-z0-9][a-z0-9-]{1,62}")
    return slug


def check_client_id(client_id: str, *, field: str = "clientId") -> str:
    if not is_client_id(client_id):
        raise Invalid(field, "must match [A-Za-z0-9._~-]{1,128} and not be '.' or '..'")
    return client_id


_last = 0
_lock = threading.Lock()


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562 §5.7), monotonic within this process (§6.2 method 3: an id made in the
    same millisecond as the last one is the last one plus a random step), so lists can page on
    the primary key in creation order."""
    global _last
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    with _lock:
        if value <= _last:
            # Same (or an earlier) millisecond: step the 62 random bits of the last id forward.
            step = 1 + (rand & 0xFFFF_FFFF)
            value = _last + step
            if (value >> 62) & 0b11 != 0b10:  # the random part overflowed: carry into rand_a
                value = ((_last >> 64) + 1) << 64 | 0b10 << 62 | (rand & 0xFFFF_FFFF)
        _last = value
    return uuid.UUID(int=value)


def first_id_at(moment: datetime) -> uuid.UUID:
    """The least id ``id_at`` can give for ``moment`` or later: ``id >= first_id_at(t)`` holds
    exactly for the ids of moments from ``t`` on (and ``<`` for those before it)."""
    return uuid.UUID(int=_time_bits(moment))


_V7 = 0x7 << 76 | 0b10 << 62  # version and variant bits
_MS = (1 << 48) - 1


def _time_bits(moment: datetime) -> int:
    return _micros_bits(epoch_micros(moment))


def _micros_bits(micros: int) -> int:
    """The time bits of a UUIDv7 of ``micros`` microseconds since 1970: the millisecond, then
    its fraction in 12 bits (RFC 9562 §6.2 method 3); version and variant set, no random bits."""
    ms, fraction = divmod(micros, 1000)
    return (ms & _MS) << 80 | (fraction * 4096 // 1000) << 64 | _V7


def id_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 of ``moment`` (RFC 9562 §6.2 method 3: the 12 bits after the millisecond hold
    its fraction, so ids order as their moments do down to the microsecond) with random bits:
    for events, whose id orders them as their ``createdAt`` does, wherever and whenever written."""
    return uuid.UUID(int=_time_bits(moment) | _random_bits(62))


def id_hex_of_micros(micros: int) -> str:
    """``id_at(…).hex`` of the moment ``micros`` microseconds after 1970 (``clock.epoch_micros``),
    without the ``UUID`` object (batched event rows: thousands a second)."""
    return f"{_micros_bits(micros) | _random_bits(62):032x}"


# Random for uniqueness, not secrecy (an event id is no credential): the fast generator.
_random_bits = random.getrandbits
