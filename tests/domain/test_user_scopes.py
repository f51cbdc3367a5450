"""DESIGN §6: a user's scope is requested ∩ client allowed ∩ (OIDC scopes ∪ the roles'
permissions); OIDC Core §5.4 claims released by ``profile`` and ``email``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pforte.domain.oauth.user_scopes import granted_user_scopes, userinfo_claims
from pforte.domain.permissions import NAMES, TENANTS_ADMIN

EVERYTHING = frozenset({"openid", "profile", "email", "offline_access", "orders", *NAMES})


def grant(
    requested: list[str],
    *,
    allowed: frozenset[str] = EVERYTHING,
    held: frozenset[str] = frozenset(),
    tenant: str = "acme",
) -> tuple[str, ...]:
    return granted_user_scopes(requested, client_allowed=allowed, role_permissions=held, tenant_slug=tenant)


# granted_user_scopes -------------------------------------------------------------------------


def test_oidc_scopes_need_no_role() -> None:
    requested = ["openid", "profile", "email", "offline_access", "address", "phone"]
    assert grant(requested, allowed=frozenset(requested)) == tuple(requested)


def test_permissions_only_through_roles() -> None:
    requested = ["openid", "users:read", "users:write", "clients:read"]
    held = frozenset({"users:read", "clients:read", "events:read"})
    assert grant(requested, held=held) == ("openid", "users:read", "clients:read")


def test_request_order_is_kept_and_duplicates_dropped() -> None:
    held = frozenset({"users:read", "clients:read"})
    assert grant(["clients:read", "openid", "users:read", "openid", "clients:read"], held=held) == (
        "clients:read",
        "openid",
        "users:read",
    )


def test_the_client_must_allow_each_scope() -> None:
    allowed = frozenset({"openid", "users:read"})
    held = frozenset({"users:read", "users:write"})
    assert grant(["openid", "profile", "users:read", "users:write"], allowed=allowed, held=held) == (
        "openid",
        "users:read",
    )


def test_client_allowed_may_be_any_collection() -> None:
    assert granted_user_scopes(
        ("openid", "profile"), client_allowed=["openid"], role_permissions=frozenset(), tenant_slug="acme"
    ) == ("openid",)


def test_nothing_requested_nothing_granted() -> None:
    assert grant([], held=frozenset(NAMES), tenant="system") == ()


def test_tenants_admin_in_system_holds_every_permission() -> None:
    requested = ["openid", TENANTS_ADMIN, "users:write", "clients:write", "events:read"]
    assert grant(requested, held=frozenset({TENANTS_ADMIN}), tenant="system") == tuple(requested)


def test_tenants_admin_counts_for_nothing_outside_system() -> None:
    requested = ["openid", TENANTS_ADMIN, "users:write", "clients:read"]
    held = frozenset({TENANTS_ADMIN, "clients:read"})
    assert grant(requested, held=held, tenant="acme") == ("openid", "clients:read")


def test_tenants_admin_is_granted_only_when_held() -> None:
    assert grant([TENANTS_ADMIN], held=frozenset({"users:write"}), tenant="system") == ()


@pytest.mark.parametrize("tenant", ["acme", "system"])
def test_a_tenant_scope_only_when_a_role_lists_it(tenant: str) -> None:
    """Not an OIDC scope and not a permission: the formula grants it only through a role."""
    assert grant(["orders"], tenant=tenant) == ()
    assert grant(["orders"], held=frozenset({"orders"}), tenant=tenant) == ("orders",)
    assert grant(["orders"], held=frozenset({"orders"}), allowed=frozenset({"openid"}), tenant=tenant) == ()


def test_tenants_admin_does_not_imply_tenant_scopes() -> None:
    assert grant(["orders"], held=frozenset({TENANTS_ADMIN}), tenant="system") == ()


@pytest.mark.parametrize("scope", ["users:delete", "Users:read", "users:read ", "openid\x00", "OPENID", ""])
def test_lookalikes_are_not_granted(scope: str) -> None:
    allowed = EVERYTHING | {scope}
    assert grant([scope], allowed=allowed, held=frozenset(NAMES), tenant="acme") == ()


# userinfo_claims -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    username: str
    email: str | None
    email_verified: bool
    given_name: str | None
    family_name: str | None
    updated_at: datetime


ALICE = User(
    id=uuid.UUID("0191d3a2-0000-7000-8000-000000000001"),
    username="Alice.Example",
    email="alice@example.com",
    email_verified=True,
    given_name="Alice",
    family_name="Example",
    updated_at=datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC),
)
SUB = "0191d3a2-0000-7000-8000-000000000001"
UPDATED = 1767323045  # 2026-01-02T03:04:05Z, fraction dropped


def test_sub_alone_without_profile_or_email() -> None:
    assert userinfo_claims(ALICE, ()) == {"sub": SUB}
    assert userinfo_claims(ALICE, ("openid", "users:read", "offline_access")) == {"sub": SUB}


def test_profile() -> None:
    assert userinfo_claims(ALICE, ("openid", "profile")) == {
        "sub": SUB,
        "preferred_username": "Alice.Example",
        "given_name": "Alice",
        "family_name": "Example",
        "name": "Alice Example",
        "updated_at": UPDATED,
    }


def test_email() -> None:
    assert userinfo_claims(ALICE, frozenset({"email"})) == {
        "sub": SUB,
        "email": "alice@example.com",
        "email_verified": True,
    }


def test_profile_and_email() -> None:
    assert userinfo_claims(ALICE, ["profile", "email"]) == {
        "sub": SUB,
        "preferred_username": "Alice.Example",
        "given_name": "Alice",
        "family_name": "Example",
        "name": "Alice Example",
        "updated_at": UPDATED,
        "email": "alice@example.com",
        "email_verified": True,
    }


@pytest.mark.parametrize(
    ("given", "family", "name"),
    [
        ("Alice", None, "Alice"),
        (None, "Example", "Example"),
        ("Alice", "", "Alice"),
        ("  Alice ", " Example  ", "Alice Example"),
        ("Anna Lena", "von Example", "Anna Lena von Example"),
        ("Zoë", "Ünal", "Zoë Ünal"),
    ],
)
def test_name_is_given_and_family(given: str | None, family: str | None, name: str) -> None:
    assert userinfo_claims(replace(ALICE, given_name=given, family_name=family), ["profile"])["name"] == name


@pytest.mark.parametrize(("given", "family"), [(None, None), ("", ""), ("  ", None), ("", "\t")])
def test_no_name_parts_no_name_claims(given: str | None, family: str | None) -> None:
    assert userinfo_claims(replace(ALICE, given_name=given, family_name=family), ["profile"]) == {
        "sub": SUB,
        "preferred_username": "Alice.Example",
        "updated_at": UPDATED,
    }


def test_stored_values_are_returned_as_stored() -> None:
    odd = replace(ALICE, given_name=" Alice", username="MiXeD.Case")
    claims = userinfo_claims(odd, ["profile"])
    assert (claims["given_name"], claims["preferred_username"], claims["name"]) == (
        " Alice",
        "MiXeD.Case",
        "Alice Example",
    )


@pytest.mark.parametrize("email", [None, "", "   "])
def test_no_email_no_email_claims(email: str | None) -> None:
    """email_verified without an address would say nothing; both are omitted."""
    assert userinfo_claims(replace(ALICE, email=email), ["email"]) == {"sub": SUB}


def test_unverified_email() -> None:
    assert userinfo_claims(replace(ALICE, email_verified=False), ["email"])["email_verified"] is False


@pytest.mark.parametrize(
    ("updated_at", "epoch"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), UPDATED),
        (datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))), UPDATED),
        (datetime(2026, 1, 2, 3, 4, 5), UPDATED),  # naive: read as UTC
        (datetime(1970, 1, 1, tzinfo=UTC), 0),
    ],
)
def test_updated_at_is_epoch_seconds(updated_at: datetime, epoch: int) -> None:
    value = userinfo_claims(replace(ALICE, updated_at=updated_at), ["profile"])["updated_at"]
    assert value == epoch and type(value) is int


def test_a_string_id_is_the_sub_too() -> None:
    @dataclass(frozen=True)
    class Legacy:
        id: str
        username: str = "bob"
        email: str | None = None
        email_verified: bool = False
        given_name: str | None = None
        family_name: str | None = None
        updated_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)

    assert userinfo_claims(Legacy(id="user-42"), ["profile", "email"]) == {
        "sub": "user-42",
        "preferred_username": "bob",
        "updated_at": 1767225600,
    }
