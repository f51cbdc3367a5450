"""The clock: every "now" of the server comes from here, so tests can set it.

Services read ``ctx.clock()`` (a ``Clock``: any callable returning an aware UTC datetime);
``utcnow`` is the system clock and the default. Domain rules never read the clock themselves:
they take ``now`` as an argument.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The system clock, aware and in UTC."""
    return datetime.now(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = _EPOCH.toordinal()


def epoch_second(moment: datetime) -> int:
    """The whole seconds since 1970 of ``moment``, exactly (``timestamp()`` is a float: near a
    second's end, far from 1970, it can round into the next one)."""
    if moment.tzinfo is not UTC:  # the clock's times are UTC already
        moment = moment.astimezone(UTC)
    return (
        (moment.toordinal() - _EPOCH_DAY) * 86_400 + moment.hour * 3_600 + moment.minute * 60 + moment.second
    )


def epoch_micros(moment: datetime) -> int:
    """The microseconds since 1970 of ``moment``, exactly."""
    return epoch_second(moment) * 1_000_000 + moment.microsecond


def from_epoch_micros(micros: int) -> datetime:
    """The aware UTC moment ``micros`` microseconds after 1970 (``epoch_micros`` undone)."""
    return _EPOCH + timedelta(microseconds=micros)


class SecondText:
    """``time.strftime(fmt)`` of a UTC second (seconds since 1970), made once per second: the date
    and time of the many moments of one second (log lines, event rows: thousands a second) are
    formatted once, and each adds only its fraction."""

    __slots__ = ("_fmt", "_last")

    def __init__(self, fmt: str) -> None:
        self._fmt = fmt
        self._last: tuple[int, str] = (-1 << 63, "")

    def __call__(self, second: int) -> str:
        last, text = self._last  # one tuple: threads read and replace it whole
        if second != last:
            text = time.strftime(self._fmt, time.gmtime(second))
            self._last = (second, text)
        return text


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
