"""Identifiers: the patterns of tenant slugs and client ids, and time-ordered UUIDs."""

from __future__ import annotations

import os
import re
import time
import uuid

from pforte.domain.errors import Invalid

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
CLIENT_ID_RE = re.compile(r"[A-Za-z0-9._~-]{1,128}")
SYSTEM_TENANT = "system"


def check_slug(slug: str, *, field: str = "slug") -> str:
    if not SLUG_RE.fullmatch(slug):
        raise Invalid(field, "must match [a-z0-9][a-z0-9-]{1,62}")
    return slug


def check_client_id(client_id: str, *, field: str = "clientId") -> str:
    # The id must be addressable as one URL path segment: "." and ".." are not.
    if not CLIENT_ID_RE.fullmatch(client_id) or client_id in {".", ".."}:
        raise Invalid(field, "must match [A-Za-z0-9._~-]{1,128} and not be '.' or '..'")
    return client_id


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562 §5.7): time-ordered, so lists can page on the primary key."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)
