"""Tenant slug and clientId patterns; UUIDv7 ids (RFC 9562 §5.7)."""

from __future__ import annotations

import time
import uuid

import pytest

from pforte.domain.errors import Invalid
from pforte.domain.ids import check_client_id, check_slug, is_tenant_ref, new_id

# slugs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["ab", "a1", "0a", "acme", "acme-corp", "a-", "a" * 63, "system", "9" * 63])
def test_valid_slugs(slug: str) -> None:
    assert check_slug(slug) == slug


@pytest.mark.parametrize(
    "slug", ["", "a", "a" * 64, "-ab", "Acme", "ACME", "a_b", "a.b", "a b", "ab\n", "äb", "a/b"]
)
def test_invalid_slugs(slug: str) -> None:
    with pytest.raises(Invalid) as exc_info:
        check_slug(slug)
    assert exc_info.value.errors == [("slug", "must match [a-z0-9][a-z0-9-]{1,62}")]


def test_slug_error_names_the_given_field() -> None:
    with pytest.raises(Invalid) as exc_info:
        check_slug("X", field="tenant")
    assert exc_info.value.errors[0][0] == "tenant"


# client ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "client_id", ["a", "A", "0", "my-app", "my_app", "my.app", "my~app", "...", ".a", "a..", "a" * 128]
)
def test_valid_client_ids(client_id: str) -> None:
    assert check_client_id(client_id) == client_id


@pytest.mark.parametrize(
    "client_id", [".", "..", "", "a" * 129, "a b", "a/b", "a%2Fb", "a:b", "a@b", "app\n", "äpp", "a+b"]
)
def test_invalid_client_ids(client_id: str) -> None:
    with pytest.raises(Invalid) as exc_info:
        check_client_id(client_id)
    assert exc_info.value.errors == [("clientId", "must match [A-Za-z0-9._~-]{1,128} and not be '.' or '..'")]


def test_client_id_error_names_the_given_field() -> None:
    with pytest.raises(Invalid) as exc_info:
        check_client_id("..", field="client_id")
    assert exc_info.value.errors[0][0] == "client_id"


# new_id ---------------------------------------------------------------------------------------


def test_new_id_is_a_version_7_uuid() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    assert isinstance(value, uuid.UUID)
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert before <= value.int >> 80 <= after  # unix_ts_ms, the top 48 bits


def test_new_ids_are_unique() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)


def test_ids_from_different_milliseconds_sort_in_creation_order() -> None:
    ids = []
    for _ in range(5):
        ids.append(new_id())
        time.sleep(0.002)
    assert sorted(ids) == ids
    assert sorted(str(i) for i in ids) == [str(i) for i in ids]


def test_successive_ids_sort_in_creation_order() -> None:
    """Also within one millisecond: two secrets created together list in creation order, and
    the audit log (ordered by id) keeps the order in which a transaction recorded its events
    (RFC 9562 §6.2 monotonicity)."""
    ids = [new_id() for _ in range(1_000)]
    assert sorted(ids) == ids


# tenant references --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    ["system", "acme-corp", "0192f1a4-7b3c-7d2e-8f00-123456789abc", "0192F1A4-7B3C-7D2E-8F00-123456789ABC"],
)
def test_tenant_refs(ref: str) -> None:
    assert is_tenant_ref(ref)


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "bad\x00in",
        "system\n",
        "\tsystem",
        "System",
        "{0192f1a4-7b3c-7d2e-8f00-123456789abc}",
        "urn:uuid:0192f1a4-7b3c-7d2e-8f00-123456789abc",
        "0192f1a4-7b3c-7d2e-8f00-123456789ab\x00",
    ],
)
def test_impossible_tenant_refs(ref: str) -> None:
    assert not is_tenant_ref(ref)
