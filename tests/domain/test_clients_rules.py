"""Client settings and the rules between them (``validate``); the permission catalogue."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from pforte.domain import permissions
from pforte.domain.clients import (
    MAX_ACCESS_TOKEN_LIFETIME,
    MAX_LIFETIME,
    TOKEN_EXCHANGE,
    ClientSpec,
    validate,
)
from pforte.domain.errors import Invalid

CODE = "authorization_code"
REDIRECT = ["https://app.example.com/cb"]


def spec(**changes: Any) -> ClientSpec:
    return ClientSpec(client_id="app", **changes)


def error_of(client: ClientSpec, tenant: str = "acme") -> tuple[str, str]:
    with pytest.raises(Invalid) as exc_info:
        validate(client, tenant_slug=tenant)
    assert len(exc_info.value.errors) == 1
    return exc_info.value.errors[0]


def test_defaults_pass_unchanged() -> None:
    client = spec()
    assert validate(client, tenant_slug="acme") == client
    assert client.allowed_grant_types == ["client_credentials"]
    assert client.require_client_secret is True
    assert (client.access_token_lifetime, client.refresh_token_lifetime) == (300, 2592000)


def test_a_full_confidential_web_client_passes() -> None:
    client = spec(
        allowed_grant_types=[CODE, "refresh_token", "client_credentials"],
        allowed_scopes=["openid", "profile", "clients:read"],
        redirect_uris=REDIRECT,
        post_logout_redirect_uris=["https://app.example.com/bye"],
        allowed_cors_origins=["https://app.example.com", "http://localhost:3000"],
        back_channel_logout_uri="https://app.example.com/logout",
    )
    assert validate(client, tenant_slug="acme") == client


def test_a_public_pkce_client_passes() -> None:
    client = spec(require_client_secret=False, allowed_grant_types=[CODE], redirect_uris=REDIRECT)
    assert validate(client, tenant_slug="acme") == client


# flag rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "field", "message"),
    [
        (
            spec(require_client_secret=False),
            "allowedGrantTypes",
            "client_credentials needs a confidential client",
        ),
        (
            spec(require_client_secret=False, allowed_grant_types=[TOKEN_EXCHANGE]),
            "allowedGrantTypes",
            "token exchange needs a confidential client",
        ),
        (
            spec(
                require_client_secret=False,
                allowed_grant_types=[CODE],
                redirect_uris=REDIRECT,
                allow_no_pkce=True,
            ),
            "allowNoPkce",
            "a public client (requireClientSecret: false) must use PKCE",
        ),
        (
            spec(allowed_grant_types=["password"]),
            "allowRopc",
            "the password grant needs allowRopc: true",
        ),
        (
            spec(allow_ropc=True),
            "allowRopc",
            "allowRopc needs 'password' in allowedGrantTypes",
        ),
        (
            spec(allowed_grant_types=[CODE]),
            "redirectUris",
            "the authorization_code grant needs at least one redirect URI",
        ),
    ],
    ids=[
        "public-client-credentials",
        "public-token-exchange",
        "public-no-pkce",
        "password-no-ropc",
        "ropc-no-password",
        "code-no-uri",
    ],
)
def test_flag_rules(client: ClientSpec, field: str, message: str) -> None:
    assert error_of(client) == (field, message)


def test_flag_combinations_that_pass() -> None:
    confidential_no_pkce = spec(allowed_grant_types=[CODE], redirect_uris=REDIRECT, allow_no_pkce=True)
    assert validate(confidential_no_pkce, tenant_slug="acme") == confidential_no_pkce
    ropc = spec(allowed_grant_types=["password"], allow_ropc=True)
    assert validate(ropc, tenant_slug="acme") == ropc


@pytest.mark.parametrize(
    ("client", "field"),
    [
        (ClientSpec(client_id="."), "clientId"),
        (ClientSpec(client_id="a b"), "clientId"),
        (spec(allowed_grant_types=["client_credentials", "implicit"]), "allowedGrantTypes[1]"),
        (spec(allowed_grant_types=["CLIENT_CREDENTIALS"]), "allowedGrantTypes[0]"),
        (spec(redirect_uris=["http://app.example.com/cb"]), "redirectUris[0]"),
        (spec(redirect_uris=[*REDIRECT, "https://app.example.com/cb/*"]), "redirectUris[1]"),
        (spec(post_logout_redirect_uris=["https://app.example.com/bye#x"]), "postLogoutRedirectUris[0]"),
        (spec(allowed_cors_origins=["https://app.example.com/path"]), "allowedCorsOrigins[0]"),
        (spec(allowed_cors_origins=["https://app.example.com", "app.example.com"]), "allowedCorsOrigins[1]"),
        (spec(allowed_cors_origins=["ftp://app.example.com"]), "allowedCorsOrigins[0]"),
        (spec(allowed_cors_origins=["https://app.example.com:99999"]), "allowedCorsOrigins[0]"),
        (spec(back_channel_logout_uri="https://app.example.com/logout/*"), "backChannelLogoutUri"),
        (
            spec(allow_redirect_uri_prefix=True, back_channel_logout_uri="https://app.example.com/l/*"),
            "backChannelLogoutUri",
        ),
    ],
)
def test_field_errors_name_the_field(client: ClientSpec, field: str) -> None:
    assert error_of(client)[0] == field


def test_prefix_redirect_uri_passes_with_the_opt_in() -> None:
    client = spec(
        allowed_grant_types=[CODE],
        redirect_uris=["https://app.example.com/cb/*"],
        allow_redirect_uri_prefix=True,
    )
    assert validate(client, tenant_slug="acme") == client


# scopes and permissions -----------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["a b", 'a"b', "a\\b", "", "café", "a\tb", "a\x7fb"])
def test_scope_token_syntax(scope: str) -> None:
    assert error_of(spec(allowed_scopes=["openid", scope])) == (
        "allowedScopes[1]",
        "is not a valid scope token (RFC 6749 §3.3)",
    )


@pytest.mark.parametrize(
    "scope",
    ["openid", "publicapi.all", "https://api.example.com/read", "a:b", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~"],
)
def test_custom_scopes_are_accepted(scope: str) -> None:
    assert validate(spec(allowed_scopes=[scope]), tenant_slug="acme").allowed_scopes == [scope]


@pytest.mark.parametrize("scope", ["clients:raed", "users:delete", "users.roles:write", "events:"])
def test_a_typo_in_a_permission_namespace_is_rejected(scope: str) -> None:
    assert error_of(spec(allowed_scopes=[scope])) == ("allowedScopes[0]", f"unknown permission {scope!r}")


@pytest.mark.parametrize("name", sorted(permissions.NAMES - {permissions.TENANTS_ADMIN}))
def test_every_tenant_permission_is_accepted(name: str) -> None:
    assert validate(spec(allowed_scopes=[name]), tenant_slug="acme").allowed_scopes == [name]


def test_tenants_admin_only_in_the_system_tenant() -> None:
    client = spec(allowed_scopes=["clients:read", "tenants:admin"])
    assert error_of(client, tenant="acme") == (
        "allowedScopes[1]",
        "tenants:admin can be granted only in the system tenant",
    )
    assert validate(client, tenant_slug="system") == client


def test_duplicates_are_removed_keeping_the_first_order() -> None:
    client = spec(
        allowed_grant_types=["refresh_token", "client_credentials", "refresh_token"],
        allowed_scopes=["b", "openid", "b", "a", "openid"],
    )
    validated = validate(client, tenant_slug="acme")
    assert validated.allowed_grant_types == ["refresh_token", "client_credentials"]
    assert validated.allowed_scopes == ["b", "openid", "a"]
    assert validated == replace(
        client,
        allowed_grant_types=["refresh_token", "client_credentials"],
        allowed_scopes=["b", "openid", "a"],
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"allowed_scopes": ["openid", "openid", "a b"]}, "allowedScopes[2]"),
        (
            {"allowed_grant_types": ["client_credentials", "client_credentials", "implicit"]},
            "allowedGrantTypes[2]",
        ),
    ],
)
def test_an_error_after_a_duplicate_names_the_index_the_caller_sent(
    changes: dict[str, Any], field: str
) -> None:
    """The field path points into the request body, not into the de-duplicated list."""
    assert error_of(spec(**changes))[0] == field


# lifetimes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field", "longest"),
    [
        ("access_token_lifetime", "accessTokenLifetime", MAX_ACCESS_TOKEN_LIFETIME),
        ("refresh_token_lifetime", "refreshTokenLifetime", MAX_LIFETIME),
    ],
)
@pytest.mark.parametrize(
    ("which", "ok"), [("zero", False), ("negative", False), ("one", True), ("longest", True), ("over", False)]
)
def test_lifetime_bounds(name: str, field: str, longest: int, which: str, ok: bool) -> None:
    """1 … longest seconds: 0 and -1 are refused, 1 and the longest pass, one more is refused."""
    value = {"zero": 0, "negative": -1, "one": 1, "longest": longest, "over": longest + 1}[which]
    client = spec(**{name: value})
    if ok:
        assert getattr(validate(client, tenant_slug="acme"), name) == value
    else:
        assert error_of(client) == (field, f"must be between 1 and {longest} seconds")


def test_max_lifetimes_are_a_day_for_access_and_ten_years_for_refresh_tokens() -> None:
    assert MAX_ACCESS_TOKEN_LIFETIME == 86_400
    assert MAX_LIFETIME == 315_360_000


# the permission catalogue ---------------------------------------------------------------------


def test_grantable_in_system_includes_tenants_admin() -> None:
    names = [p.name for p in permissions.grantable_in("system")]
    assert "tenants:admin" in names
    assert names == [p.name for p in permissions.CATALOGUE]


def test_grantable_in_other_tenants_excludes_tenants_admin() -> None:
    names = [p.name for p in permissions.grantable_in("acme")]
    assert "tenants:admin" not in names
    assert names == [p.name for p in permissions.CATALOGUE if p.name != "tenants:admin"]
    assert len(names) == len(permissions.CATALOGUE) - 1


def test_only_tenants_admin_is_system_only() -> None:
    assert [p.name for p in permissions.CATALOGUE if p.system_only] == ["tenants:admin"]


@pytest.mark.parametrize("permission", permissions.CATALOGUE, ids=lambda p: p.name)
def test_every_catalogue_entry_is_described_in_english_and_german(permission: permissions.Permission) -> None:
    assert permission.description_en.strip() == permission.description_en != ""
    assert permission.description_de.strip() == permission.description_de != ""
    assert permission.description_en != permission.description_de
    assert permission.api.endswith("API")
    assert permission.name in permissions.NAMES
    assert permissions.is_permission(permission.name)
    assert permissions.looks_like_permission(permission.name)


def test_catalogue_names_are_unique_scope_tokens() -> None:
    names = [p.name for p in permissions.CATALOGUE]
    assert len(names) == len(set(names)) == len(permissions.BY_NAME)
    assert all(" " not in n and '"' not in n and "\\" not in n for n in names)


def test_holds() -> None:
    assert permissions.holds(frozenset({"clients:read"}), "clients:read") is True
    assert permissions.holds(frozenset({"clients:read"}), "clients:write") is False
    assert permissions.holds(frozenset({"tenants:admin"}), "clients:write") is True
    assert permissions.holds(frozenset(), "clients:read") is False
