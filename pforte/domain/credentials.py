"""Credential values and validity windows (DESIGN.md §4).

A value is ``<prefix><random><checksum>``:

- ``prefix`` names the kind: ``pfs_`` client secret, ``pfk_`` API key, ``pfr_`` refresh token;
- ``random`` is 32 bytes from the OS CSPRNG in base62 (43 characters, 256 bits);
- ``checksum`` is CRC32 of the random part in base62 (6 characters), so a secret scanner can
  tell a real leaked value from noise without asking the server (GitHub's token format).

``valueDisplay`` is the prefix and the first three characters of the random part, then "…".
"""

from __future__ import annotations

import calendar
import secrets
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pforte.domain.errors import Invalid

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_LEN = 43  # 62**43 > 2**256
_CHECKSUM_LEN = 6  # 62**6 > 2**32
MAX_LIVE_SECRETS = 10
MIN_SECRET_LIFETIME = timedelta(days=1)


class Kind(StrEnum):
    CLIENT_SECRET = "pfs_"
    API_KEY = "pfk_"
    REFRESH_TOKEN = "pfr_"


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def _checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode("ascii")), _CHECKSUM_LEN)


def new_value(kind: Kind) -> str:
    random_part = _base62(int.from_bytes(secrets.token_bytes(32), "big"), _RANDOM_LEN)
    return f"{kind.value}{random_part}{_checksum(random_part)}"


def is_well_formed(value: str, kind: Kind) -> bool:
    """Prefix, length, alphabet and checksum hold. Cheap; says nothing about validity."""
    prefix = kind.value
    if len(value) != len(prefix) + _RANDOM_LEN + _CHECKSUM_LEN or not value.startswith(prefix):
        return False
    body = value[len(prefix) :]
    if any(c not in _ALPHABET for c in body):
        return False
    return secrets.compare_digest(_checksum(body[:_RANDOM_LEN]), body[_RANDOM_LEN:])


def display(value: str, kind: Kind) -> str:
    return f"{kind.value}{value[len(kind.value) : len(kind.value) + 3]}…"


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """A client secret or API key as the services hand it out: never its value, nor its hash."""

    id: uuid.UUID
    value_display: str
    created_at: datetime
    # The actor that created it, as audit events name actors (``Actor.label()``: ``api_key:<id>``,
    # ``system:pforte``…); None for one created before this was recorded.
    created_by: str | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class SecretRecord(CredentialRecord):
    description: str | None
    start_time: datetime
    expiration: datetime


@dataclass(frozen=True, slots=True)
class ApiKeyRecord(CredentialRecord):
    name: str
    scopes: list[str]
    expiration: datetime | None


def newest_secret(candidates: Iterable[SecretRecord], now: datetime) -> SecretRecord | None:
    """The secret a rotation put in place last: of the unexpired ones that authenticate now
    (one whose ``startTime`` lies ahead is not yet the one to use), the latest ``startTime``,
    then ``createdAt``. None when no secret is valid now."""
    live = [s for s in candidates if s.start_time <= now < s.expiration]
    return max(live, key=lambda s: (s.start_time, s.created_at, s.id), default=None)


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later; the day is clamped to the month's last day (31 Aug + 6 → 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True, slots=True)
class Window:
    """``[start, expiration)``: the instants in which a credential authenticates."""

    start: datetime
    expiration: datetime | None

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment and (self.expiration is None or moment < self.expiration)


def secret_window(*, now: datetime, start: datetime | None, expiration: datetime | None) -> Window:
    """A client secret's window: default start now, default expiration six months after creation;
    the expiration lies between one day and three years after the start."""
    start = _aware(start, "startTime") if start is not None else now
    # An error about a value the caller did not send names the default it came from.
    given = expiration is not None
    if expiration is None:
        expiration = max(add_months(now, 6), start + MIN_SECRET_LIFETIME)
    expiration = _aware(expiration, "expiration")
    said = "" if given else f"not given, so its default (six months from now, {expiration.isoformat()}) "

    def refuse(rule: str) -> Invalid:
        return Invalid("expiration", f"{said}{rule}" + ("" if given else "; send an expiration"))

    if expiration < start + MIN_SECRET_LIFETIME:
        raise refuse("must be at least one day after startTime")
    if expiration > add_months(start, 36):
        raise refuse("must be at most three years after startTime")
    if expiration <= now:
        raise refuse("must lie in the future")
    return Window(start=start, expiration=expiration)


def api_key_expiration(*, now: datetime, expiration: datetime | None) -> datetime | None:
    if expiration is None:
        return None
    expiration = _aware(expiration, "expiration")
    if expiration <= now:
        raise Invalid("expiration", "must lie in the future")
    return expiration


def _aware(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise Invalid(field, "must carry a time zone offset, e.g. 2027-01-01T00:00:00Z")
    return moment.astimezone(UTC)
