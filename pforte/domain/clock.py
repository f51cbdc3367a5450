"""The clock: every "now" of the server comes from here, so tests can set it.

Services read ``ctx.clock()`` (a ``Clock``: any callable returning an aware UTC datetime);
``utcnow`` is the system clock and the default. Domain rules never read the clock themselves:
they take ``now`` as an argument.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The system clock, aware and in UTC."""
    return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved (for tests and replays)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock tells aware UTC times")
        self.at = at.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
