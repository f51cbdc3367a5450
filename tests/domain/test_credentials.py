"""Credential values (prefix, 256-bit random part, CRC32 checksum), display, and validity windows."""

from __future__ import annotations

import math
import string
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pforte.domain import credentials as cred
from pforte.domain.credentials import Kind, Window, add_months, display, is_well_formed, new_value
from pforte.domain.errors import Invalid

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)


def base62_decode(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + BASE62.index(char)
    return number


def flip(value: str, position: int) -> str:
    """``value`` with the character at ``position`` replaced by another base62 character."""
    replacement = "1" if value[position] == "0" else "0"
    return value[:position] + replacement + value[position + 1 :]


# new_value ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "prefix"),
    [(Kind.CLIENT_SECRET, "pfs_"), (Kind.API_KEY, "pfk_"), (Kind.REFRESH_TOKEN, "pfr_")],
)
def test_new_value_format(kind: Kind, prefix: str) -> None:
    value = new_value(kind)
    assert value.startswith(prefix)
    assert len(value) == 53 == len(prefix) + 43 + 6
    body = value[len(prefix) :]
    assert set(body) <= set(BASE62)
    random_part, checksum = body[:43], body[43:]
    # The checksum is CRC32 of the random part, in six base62 digits.
    assert base62_decode(checksum) == zlib.crc32(random_part.encode())
    assert is_well_formed(value, kind)


def test_random_part_carries_at_least_256_bits() -> None:
    assert 43 * math.log2(62) >= 256
    assert 62**43 > 2**256
    value = new_value(Kind.CLIENT_SECRET)
    # 32 random bytes fit the 43 base62 characters.
    assert base62_decode(value[4:47]) < 2**256


def test_new_values_differ() -> None:
    values = {new_value(Kind.API_KEY) for _ in range(200)}
    assert len(values) == 200
    # Every position of the random part varies, the leading one too (it ranges over 0..60).
    assert all(len({v[i] for v in values}) > 1 for i in range(4, 47))


# is_well_formed -------------------------------------------------------------------------------


@pytest.mark.parametrize("position", [4, 5, 25, 46, 47, 50, 52], ids=lambda p: f"pos{p}")
def test_a_flipped_character_is_rejected(position: int) -> None:
    value = new_value(Kind.CLIENT_SECRET)
    assert is_well_formed(value, Kind.CLIENT_SECRET)
    assert not is_well_formed(flip(value, position), Kind.CLIENT_SECRET)


@pytest.mark.parametrize(
    ("made", "checked"),
    [
        (Kind.API_KEY, Kind.CLIENT_SECRET),
        (Kind.CLIENT_SECRET, Kind.API_KEY),
        (Kind.REFRESH_TOKEN, Kind.API_KEY),
    ],
)
def test_the_prefix_of_another_kind_is_rejected(made: Kind, checked: Kind) -> None:
    value = new_value(made)
    assert is_well_formed(value, made)
    assert not is_well_formed(value, checked)


@pytest.mark.parametrize("prefix", ["pfx_", "PFS_", "pfs-", "xxxx"])
def test_a_wrong_prefix_is_rejected(prefix: str) -> None:
    value = new_value(Kind.CLIENT_SECRET)
    assert not is_well_formed(prefix + value[4:], Kind.CLIENT_SECRET)


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v[:-1],
        lambda v: v + "0",
        lambda v: v[:10] + v[11:],
        lambda v: v[:10] + "0" + v[10:],
        lambda v: "",
        lambda v: "pfs_",
    ],
    ids=["drop-last", "append", "drop-middle", "insert-middle", "empty", "prefix-only"],
)
def test_a_wrong_length_is_rejected(change: Callable[[str], str]) -> None:
    value = new_value(Kind.CLIENT_SECRET)
    changed = change(value)
    assert len(changed) != 53
    assert not is_well_formed(changed, Kind.CLIENT_SECRET)


@pytest.mark.parametrize("char", ["-", "_", "+", "/", "=", " ", "é"])
def test_a_character_outside_base62_is_rejected(char: str) -> None:
    value = new_value(Kind.CLIENT_SECRET)
    assert not is_well_formed(value[:20] + char + value[21:], Kind.CLIENT_SECRET)


# display --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(Kind))
def test_display_is_the_prefix_three_characters_and_an_ellipsis(kind: Kind) -> None:
    value = new_value(kind)
    shown = display(value, kind)
    assert shown == f"{kind.value}{value[4:7]}…"
    assert len(shown) == 8


def test_display_of_a_known_value() -> None:
    assert display("pfk_Ab9restofthevalue", Kind.API_KEY) == "pfk_Ab9…"


# add_months -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2025, 8, 31, 9, 30, tzinfo=UTC), 6, datetime(2026, 2, 28, 9, 30, tzinfo=UTC)),
        (datetime(2023, 8, 31, 9, 30, tzinfo=UTC), 6, datetime(2024, 2, 29, 9, 30, tzinfo=UTC)),
        (datetime(2025, 1, 31, tzinfo=UTC), 1, datetime(2025, 2, 28, tzinfo=UTC)),
        (datetime(2024, 1, 31, tzinfo=UTC), 1, datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2025, 3, 31, tzinfo=UTC), 1, datetime(2025, 4, 30, tzinfo=UTC)),
        (datetime(2025, 12, 15, tzinfo=UTC), 1, datetime(2026, 1, 15, tzinfo=UTC)),
        (datetime(2025, 7, 1, tzinfo=UTC), 6, datetime(2026, 1, 1, tzinfo=UTC)),
        (datetime(2024, 2, 29, tzinfo=UTC), 12, datetime(2025, 2, 28, tzinfo=UTC)),
        (datetime(2024, 2, 29, tzinfo=UTC), 36, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2024, 2, 29, tzinfo=UTC), 48, datetime(2028, 2, 29, tzinfo=UTC)),
        (
            datetime(2025, 5, 17, 23, 59, 59, 999999, tzinfo=UTC),
            0,
            datetime(2025, 5, 17, 23, 59, 59, 999999, tzinfo=UTC),
        ),
    ],
)
def test_add_months(start: datetime, months: int, expected: datetime) -> None:
    result = add_months(start, months)
    assert result == expected
    assert result.tzinfo is start.tzinfo


# secret_window --------------------------------------------------------------------------------


def window_error(**kwargs: datetime | None) -> list[tuple[str, str]]:
    with pytest.raises(Invalid) as exc_info:
        cred.secret_window(now=NOW, **{"start": None, "expiration": None, **kwargs})
    return exc_info.value.errors


def test_secret_window_defaults_to_now_and_six_calendar_months() -> None:
    window = cred.secret_window(now=NOW, start=None, expiration=None)
    assert window == Window(start=NOW, expiration=datetime(2026, 9, 10, 12, tzinfo=UTC))


def test_default_expiration_follows_a_late_start() -> None:
    start = NOW + timedelta(days=400)
    window = cred.secret_window(now=NOW, start=start, expiration=None)
    assert window == Window(start=start, expiration=start + timedelta(days=1))


def test_default_expiration_of_an_aug_31_secret_is_the_end_of_february() -> None:
    now = datetime(2025, 8, 31, 8, tzinfo=UTC)
    window = cred.secret_window(now=now, start=None, expiration=None)
    assert window.expiration == datetime(2026, 2, 28, 8, tzinfo=UTC)


def test_exactly_one_day_is_allowed() -> None:
    window = cred.secret_window(now=NOW, start=NOW, expiration=NOW + timedelta(days=1))
    assert window == Window(start=NOW, expiration=NOW + timedelta(days=1))


def test_one_second_less_than_a_day_is_invalid() -> None:
    errors = window_error(start=NOW, expiration=NOW + timedelta(days=1, seconds=-1))
    assert errors == [("expiration", "must be at least one day after startTime")]


def test_exactly_three_calendar_years_is_allowed() -> None:
    window = cred.secret_window(now=NOW, start=NOW, expiration=datetime(2029, 3, 10, 12, tzinfo=UTC))
    assert window.expiration == datetime(2029, 3, 10, 12, tzinfo=UTC)


def test_more_than_three_years_is_invalid() -> None:
    errors = window_error(start=NOW, expiration=datetime(2029, 3, 10, 12, 0, 1, tzinfo=UTC))
    assert errors == [("expiration", "must be at most three years after startTime")]


def test_three_years_count_from_the_start_not_from_now() -> None:
    start = NOW + timedelta(days=30)
    expiration = add_months(start, 36)
    assert cred.secret_window(now=NOW, start=start, expiration=expiration).expiration == expiration


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"expiration": datetime(2026, 6, 1)}, "expiration"),
        ({"start": datetime(2026, 4, 1)}, "startTime"),
        ({"start": datetime(2026, 4, 1), "expiration": datetime(2026, 6, 1, tzinfo=UTC)}, "startTime"),
    ],
    ids=["naive-expiration", "naive-start", "naive-start-aware-expiration"],
)
def test_a_naive_datetime_is_invalid(kwargs: dict[str, datetime], field: str) -> None:
    assert window_error(**kwargs) == [(field, "must carry a time zone offset, e.g. 2027-01-01T00:00:00Z")]


@pytest.mark.parametrize(
    ("start", "expiration"),
    [
        (NOW - timedelta(days=10), NOW - timedelta(days=1)),
        (NOW - timedelta(days=10), NOW),
    ],
    ids=["past", "exactly-now"],
)
def test_an_expiration_not_in_the_future_is_invalid(start: datetime, expiration: datetime) -> None:
    assert window_error(start=start, expiration=expiration) == [("expiration", "must lie in the future")]


def test_a_start_in_the_past_is_allowed() -> None:
    start = NOW - timedelta(days=10)
    window = cred.secret_window(now=NOW, start=start, expiration=NOW + timedelta(days=1))
    assert window == Window(start=start, expiration=NOW + timedelta(days=1))


def test_offsets_are_converted_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    start = datetime(2026, 3, 11, 14, 0, tzinfo=plus_two)
    expiration = datetime(2026, 4, 1, 2, 0, tzinfo=plus_two)
    window = cred.secret_window(now=NOW, start=start, expiration=expiration)
    assert window.start == start and window.start.tzinfo is UTC
    assert window.start.hour == 12
    assert window.expiration == expiration and window.expiration.tzinfo is UTC


# Window ---------------------------------------------------------------------------------------

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (START - TICK, False),
        (START, True),
        (START + TICK, True),
        (END - TICK, True),
        (END, False),
        (END + TICK, False),
    ],
    ids=["before-start", "start", "after-start", "before-end", "end", "after-end"],
)
def test_window_is_half_open(moment: datetime, inside: bool) -> None:
    assert Window(start=START, expiration=END).contains(moment) is inside


def test_window_without_expiration_is_open_ended() -> None:
    window = Window(start=START, expiration=None)
    assert window.contains(START)
    assert window.contains(datetime(9999, 12, 31, tzinfo=UTC))
    assert not window.contains(START - TICK)


# api_key_expiration ---------------------------------------------------------------------------


def test_api_key_expiration_is_optional_must_be_aware_and_in_the_future() -> None:
    assert cred.api_key_expiration(now=NOW, expiration=None) is None
    later = NOW + timedelta(seconds=1)
    assert cred.api_key_expiration(now=NOW, expiration=later) == later
    with pytest.raises(Invalid) as past:
        cred.api_key_expiration(now=NOW, expiration=NOW)
    assert past.value.errors == [("expiration", "must lie in the future")]
    with pytest.raises(Invalid) as naive:
        cred.api_key_expiration(now=NOW, expiration=datetime(2030, 1, 1))
    assert naive.value.errors[0][0] == "expiration"
