"""RFC 8693 impersonation rules (``domain/oauth/token_exchange``): who may exchange, what a
request must carry, the scope it may ask for, which users a client may act as, ``act``."""

from __future__ import annotations

import pytest

from pforte.domain.oauth import token_exchange as rules
from pforte.domain.oauth.errors import InvalidRequest, InvalidScope, InvalidTarget, UnauthorizedClient

AT = rules.ACCESS_TOKEN_TYPE
API = "https://id.example.com/api"


def test_only_a_confidential_holder_of_users_impersonate_may_exchange() -> None:
    rules.check_client(confidential=True, scopes=("users:impersonate",))
    with pytest.raises(UnauthorizedClient, match="confidential"):
        rules.check_client(confidential=False, scopes=("users:impersonate",))
    with pytest.raises(UnauthorizedClient, match="users:impersonate"):
        rules.check_client(confidential=True, scopes=("users:read",))


def test_a_well_formed_request() -> None:
    form = {"subject_token": "t", "subject_token_type": AT, "requested_subject": "ada"}
    assert rules.check_parameters(form) == ("t", "ada")
    assert rules.check_parameters(form | {"requested_token_type": AT}) == ("t", "ada")


@pytest.mark.parametrize(
    "change",
    [
        {"subject_token": ""},
        {"subject_token_type": "urn:ietf:params:oauth:token-type:jwt"},
        {"requested_subject": ""},
        {"requested_token_type": "urn:ietf:params:oauth:token-type:refresh_token"},
        {"actor_token": "a"},
        {"actor_token_type": AT},
    ],
)
def test_a_malformed_request(change: dict[str, str]) -> None:
    form = {"subject_token": "t", "subject_token_type": AT, "requested_subject": "ada"} | change
    with pytest.raises(InvalidRequest):
        rules.check_parameters(form)


def test_the_audience() -> None:
    registered = (API,)
    assert rules.audience(None, None, registered=registered, default=API) == API
    assert rules.audience(API, API, registered=registered, default=API) == API
    for audience, resource in (("billing", None), (None, "https://other.example.com/api")):
        with pytest.raises(InvalidTarget):
            rules.audience(audience, resource, registered=registered, default=API)
    two = (API, "https://id.example.com/other")
    assert rules.audience(two[1], None, registered=two, default=API) == two[1]
    with pytest.raises(InvalidTarget, match="one audience"):
        rules.audience(two[1], API, registered=two, default=API)


def test_scope_narrows_only_and_never_carries_the_right_to_impersonate() -> None:
    carried = "users:impersonate clients:read profile"
    assert rules.requested_scopes(None, carried) == ["clients:read", "profile"]
    assert rules.requested_scopes(None, None) == []
    assert rules.requested_scopes("profile profile", carried) == ["profile"]
    assert rules.requested_scopes("", carried) == []
    for asked in ("users:read", "users:impersonate", "bad\\scope"):
        with pytest.raises(InvalidScope):
            rules.requested_scopes(asked, carried)


@pytest.mark.parametrize(
    ("user", "client", "tenant", "allowed"),
    [
        ({"users:read"}, ("users:impersonate", "users:read"), "acme", True),
        (set(), ("users:impersonate",), "acme", True),
        ({"invoices.read"}, ("users:impersonate",), "acme", True),  # not a permission
        ({"users:write"}, ("users:impersonate", "users:read"), "acme", False),
        ({"tenants:admin"}, ("users:impersonate",), "acme", True),  # nothing outside system
        ({"tenants:admin"}, ("users:impersonate", "users:read"), "system", False),
        ({"tenants:admin", "users:read"}, ("users:impersonate", "tenants:admin"), "system", True),
        ({"users:write"}, ("users:impersonate", "tenants:admin"), "system", True),
    ],
)
def test_never_for_a_user_holding_more_than_the_client(
    user: set[str], client: tuple[str, ...], tenant: str, allowed: bool
) -> None:
    assert rules.may_impersonate(frozenset(user), client, tenant) is allowed


def test_act_names_the_client_and_nests_a_prior_actor() -> None:
    assert rules.actor_claim("imp") == {"sub": "imp"}
    assert rules.actor_claim("imp", {"sub": "gateway"}) == {"sub": "imp", "act": {"sub": "gateway"}}
    assert rules.actor_claim("imp", "not an object") == {"sub": "imp"}
