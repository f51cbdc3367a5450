"""Signing-key rotation rules (domain.oauth.signing_keys): which key signs, which are published,
what a rotation does to the others, and when a tenant is due for a new key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from pforte.domain.clients import MAX_ACCESS_TOKEN_LIFETIME
from pforte.domain.oauth import signing_keys
from pforte.domain.oauth.signing_keys import KeyStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Key:
    name: str
    active_from: datetime
    retired_at: datetime | None = None


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_retirement_waits_for_the_longest_possible_token_plus_leeway() -> None:
    assert signing_keys.retirement(at(60)) == at(60 + MAX_ACCESS_TOKEN_LIFETIME + 60)
    assert timedelta(seconds=MAX_ACCESS_TOKEN_LIFETIME) == signing_keys.LONGEST_TOKEN


def test_a_rotated_pair_over_time() -> None:
    """Old key signs until the new one's active_from; both are published until the old retires."""
    old = Key("old", at(-1000))
    new = Key("new", at(60))
    retire, withdraw = signing_keys.superseded([old], new.active_from, at(0))
    assert (retire, withdraw) == ([old], [])
    old.retired_at = signing_keys.retirement(new.active_from)
    keys = [old, new]

    def picture(now: datetime) -> tuple[str | None, list[str], list[KeyStatus]]:
        signer = signing_keys.signing_key(keys, now)
        return (
            signer.name if signer else None,
            [k.name for k in signing_keys.published(keys, now)],
            [signing_keys.status(k, keys, now) for k in keys],
        )

    assert picture(at(0)) == ("old", ["old", "new"], [KeyStatus.ACTIVE, KeyStatus.NEXT])
    assert picture(at(59)) == ("old", ["old", "new"], [KeyStatus.ACTIVE, KeyStatus.NEXT])
    assert picture(at(60)) == ("new", ["old", "new"], [KeyStatus.RETIRING, KeyStatus.ACTIVE])
    last = old.retired_at - timedelta(microseconds=1)
    assert picture(last) == ("new", ["old", "new"], [KeyStatus.RETIRING, KeyStatus.ACTIVE])
    assert picture(old.retired_at) == ("new", ["new"], [KeyStatus.RETIRED, KeyStatus.ACTIVE])


def test_keys_with_a_retirement_keep_it() -> None:
    retiring = Key("retiring", at(-500), retired_at=at(10_000))
    active = Key("active", at(-100))
    retire, withdraw = signing_keys.superseded([retiring, active], at(60), at(0))
    assert retire == [active]
    assert withdraw == []


def test_retired_keys_are_left_alone() -> None:
    gone = Key("gone", at(-500), retired_at=at(-1))
    retire, withdraw = signing_keys.superseded([gone], at(60), at(0))
    assert (retire, withdraw) == ([], [])


def test_a_pending_key_that_starts_before_the_new_one_retires_normally() -> None:
    """Two rotations in a row: the first new key signs only until the second takes over."""
    active = Key("active", at(-100))
    pending = Key("pending", at(50))
    retire, withdraw = signing_keys.superseded([active, pending], at(70), at(10))
    assert retire == [active, pending]
    assert withdraw == []


def test_a_pending_key_that_would_outrank_the_new_one_is_withdrawn() -> None:
    """Made under a longer publish-ahead, it would start signing after the new key — and then sign
    past its own retirement. It has signed nothing, so it goes at once."""
    active = Key("active", at(-100))
    pending = Key("pending", at(3600), retired_at=at(99_999))
    retire, withdraw = signing_keys.superseded([active, pending], at(0), at(0))
    assert retire == [active]
    assert withdraw == [pending]


@pytest.mark.parametrize(
    ("newest", "now", "due"),
    [
        (None, at(0), True),
        (at(0), at(0), False),
        (at(0), at(90 * 86400), False),
        (at(0), at(90 * 86400 + 1), True),
    ],
)
def test_rotation_due_after_the_interval(newest: datetime | None, now: datetime, due: bool) -> None:
    assert signing_keys.rotation_due(newest, now, timedelta(days=90)) is due


def test_no_key_signs_when_every_key_is_retired_or_pending() -> None:
    keys = [Key("gone", at(-100), retired_at=at(-1)), Key("pending", at(100))]
    assert signing_keys.signing_key(keys, at(0)) is None
    assert [signing_keys.status(k, keys, at(0)) for k in keys] == [KeyStatus.RETIRED, KeyStatus.NEXT]
