"""The clock's helpers for many moments a second: exact epoch seconds and per-second text."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pforte.domain.clock import SecondText, epoch_micros, epoch_second, from_epoch_micros
from pforte.domain.ids import first_id_at, id_at, id_hex_of_micros

MOMENTS = [
    datetime(2026, 12, 6, 15, 0, 0, 0, tzinfo=UTC),
    datetime(2026, 12, 6, 15, 0, 0, 999_999, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2000, 2, 29, 23, 59, 59, 500_000, tzinfo=UTC),
    # Far from 1970 a float timestamp cannot hold the microseconds: the exact sum can.
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 1, 1, 1, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_epoch_second_is_the_exact_whole_second(moment: datetime) -> None:
    exact = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    assert epoch_second(moment) == exact


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_epoch_micros_round_trips(moment: datetime) -> None:
    micros = epoch_micros(moment)
    assert micros == (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert from_epoch_micros(micros) == moment
    assert from_epoch_micros(micros).tzinfo is UTC


def test_second_text_formats_each_second_once_and_follows_the_clock() -> None:
    text = SecondText("%Y-%m-%d %H:%M:%S")
    second = epoch_second(datetime(2026, 12, 6, 15, 0, 0, tzinfo=UTC))
    assert text(second) == "2026-12-06 15:00:00"
    assert text(second) == "2026-12-06 15:00:00"
    assert text(second + 1) == "2026-12-06 15:00:01"
    assert text(second - 86_400) == "2026-12-05 15:00:00"
    assert text(-1) == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(-1)) == "1969-12-31 23:59:59"


# UUIDv7 holds no time before 1970, nor after 10889 (48 bits of milliseconds).
@pytest.mark.parametrize("moment", [m for m in MOMENTS if 1970 <= m.year < 9999], ids=str)
def test_event_ids_hold_the_moment_down_to_the_microsecond(moment: datetime) -> None:
    later = moment + timedelta(microseconds=1)
    for made in (
        id_at(moment),
        uuid.UUID(id_hex_of_micros(epoch_micros(moment))),
    ):
        assert made.version == 7
        assert first_id_at(moment) <= made < first_id_at(later + timedelta(microseconds=1))
    # An id of the moment sorts before one of the next millisecond's start.
    assert id_at(moment) < first_id_at(moment + timedelta(milliseconds=1))
