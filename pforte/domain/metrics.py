"""What the Metric API reads (DESIGN.md §7): per UTC day and client, counts kept as they
happen (never computed from the events).

``from`` and ``to`` are days (``YYYY-MM-DD``), both inclusive; a range spans at most
``RANGE_MAX_DAYS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from pforte.domain.errors import Invalid

RANGE_MAX_DAYS = 366
DEFAULT_DAYS = 30
# Where counts without a client go (a failed sign-in whose authorization request named none).
NO_CLIENT = ""


DAY_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(value: str | None, field: str) -> date | None:
    """``YYYY-MM-DD`` (RFC 3339 full-date) and nothing else; ``Invalid`` (422) otherwise."""
    if value is None:
        return None
    try:
        if DAY_RE.fullmatch(value) is None:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(field, "must be a day, YYYY-MM-DD") from None


@dataclass(frozen=True, slots=True)
class DayRange:
    first: date
    last: date

    @classmethod
    def of(cls, first: date | None, last: date | None, today: date) -> DayRange:
        """``[first, last]``; without ``last``, today; without ``first``, the ``DEFAULT_DAYS``
        up to ``last``. ``Invalid`` (422) for a reversed or too long range."""
        last = last or today
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise Invalid("from", "must not be after to")
        if (last - first).days + 1 > RANGE_MAX_DAYS:
            raise Invalid("to", f"a range spans at most {RANGE_MAX_DAYS} days")
        return cls(first, last)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True, slots=True)
class DailyCounts:
    """One day's counts: of one client, or (``client_id`` None) of the whole tenant."""

    day: date
    client_id: str | None
    tokens_issued: int = 0
    failed_client_authentications: int = 0
    sign_ins: int = 0
    sign_in_failures: int = 0
    active_users: int = 0
