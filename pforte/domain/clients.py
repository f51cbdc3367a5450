"""A client's settings and the rules that tie them together (DESIGN.md §3).

``ClientSpec`` is the one declaration of a client's fields and their defaults: the admin API's
models take their defaults from ``CLIENT_DEFAULTS``, services copy fields by ``SPEC_FIELDS``, and
``tests/test_client_shape.py`` fails when the API models, the table or the validation here
disagree with it (a new field: add it here, then where that test points).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

from pforte.domain import permissions
from pforte.domain.errors import Invalid
from pforte.domain.ids import SYSTEM_TENANT, check_client_id
from pforte.domain.oauth import redirect_uris
from pforte.domain.oauth.scopes import is_scope_token

CLIENT_CREDENTIALS = "client_credentials"
AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"
PASSWORD = "password"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
GRANT_TYPES = (CLIENT_CREDENTIALS, AUTHORIZATION_CODE, REFRESH_TOKEN, PASSWORD, TOKEN_EXCHANGE)

MAX_LIFETIME = 10 * 365 * 24 * 3600
# A JWT access token cannot be recalled from a resource server that does not introspect, and
# rotated signing keys stay published until the longest one may have expired: one day at most.
MAX_ACCESS_TOKEN_LIFETIME = 24 * 3600


def _grants() -> list[str]:
    return [CLIENT_CREDENTIALS]


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """Everything an administrator sets on a client; defaults are DESIGN.md §3's."""

    client_id: str
    client_name: str | None = None
    description: str | None = None
    owner: str | None = None
    enabled: bool = True
    require_client_secret: bool = True
    allowed_grant_types: list[str] = field(default_factory=_grants)
    allowed_scopes: list[str] = field(default_factory=list)
    redirect_uris: list[str] = field(default_factory=list)
    allow_redirect_uri_prefix: bool = False
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    allowed_cors_origins: list[str] = field(default_factory=list)
    allow_offline_access: bool = False
    require_consent: bool = False
    allow_remember_consent: bool = True
    allow_no_pkce: bool = False
    allow_ropc: bool = False
    back_channel_logout_uri: str | None = None
    back_channel_logout_session_required: bool = True
    restrict_to_role: str | None = None
    show_in_account_console: bool = False
    access_token_lifetime: int = 300
    refresh_token_lifetime: int = 30 * 24 * 3600

    @property
    def is_public(self) -> bool:
        return not self.require_client_secret

    def permissions(self) -> frozenset[str]:
        return frozenset(s for s in self.allowed_scopes if permissions.is_permission(s))


# How the console's list can be sorted: by name, by clientId, newest first.
LIST_SORTS: Final = ("name", "clientId", "created")

SPEC_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ClientSpec))
# Every field's default. ``clientId`` has none (it is required), so it is empty here.
CLIENT_DEFAULTS: Final = ClientSpec(client_id="")


@dataclass(frozen=True, slots=True)
class Client:
    """A stored client, as the services hand it out: its settings and what the server keeps."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    spec: ClientSpec
    created_at: datetime
    updated_at: datetime
    version: int  # raised by every change; the ETag (If-Match detects lost updates)

    @property
    def client_id(self) -> str:
        return self.spec.client_id


def validate(spec: ClientSpec, *, tenant_slug: str) -> ClientSpec:
    """Check every field and the rules between them; return the spec with lists de-duplicated.

    Raises ``Invalid`` naming the (camelCase) field at fault.
    """
    check_client_id(spec.client_id)
    # Check each entry at the index the caller sent it, then drop duplicates.
    for i, grant in enumerate(spec.allowed_grant_types):
        if grant not in GRANT_TYPES:
            raise Invalid(f"allowedGrantTypes[{i}]", f"unsupported grant type {grant!r}")
    for i, scope in enumerate(spec.allowed_scopes):
        _check_scope(scope, f"allowedScopes[{i}]", tenant_slug)
    grants, scopes = _unique(spec.allowed_grant_types), _unique(spec.allowed_scopes)
    for name, uris in (
        ("redirectUris", spec.redirect_uris),
        ("postLogoutRedirectUris", spec.post_logout_redirect_uris),
    ):
        for i, uri in enumerate(uris):
            error = redirect_uris.registration_error(uri, allow_prefix=spec.allow_redirect_uri_prefix)
            if error:
                raise Invalid(f"{name}[{i}]", error)
    for i, origin in enumerate(spec.allowed_cors_origins):
        if not _is_origin(origin):
            raise Invalid(f"allowedCorsOrigins[{i}]", "must be an origin: scheme://host[:port]")
    if spec.back_channel_logout_uri is not None:
        # The server calls this URI itself (OIDC Back-Channel Logout): a web URI, no app scheme.
        error = redirect_uris.registration_error(
            spec.back_channel_logout_uri, allow_prefix=False, allow_private_scheme=False
        )
        if error:
            raise Invalid("backChannelLogoutUri", error)
    for name, value, longest in (
        ("accessTokenLifetime", spec.access_token_lifetime, MAX_ACCESS_TOKEN_LIFETIME),
        ("refreshTokenLifetime", spec.refresh_token_lifetime, MAX_LIFETIME),
    ):
        if not 1 <= value <= longest:
            raise Invalid(name, f"must be between 1 and {longest} seconds")
    _check_flags(spec, grants)
    return replace(spec, allowed_grant_types=grants, allowed_scopes=scopes)


def _check_flags(spec: ClientSpec, grants: list[str]) -> None:
    if spec.is_public and CLIENT_CREDENTIALS in grants:
        raise Invalid("allowedGrantTypes", "client_credentials needs a confidential client")
    if spec.is_public and TOKEN_EXCHANGE in grants:
        # Impersonation (RFC 8693) trades a client-credentials token: a public client has none.
        raise Invalid("allowedGrantTypes", "token exchange needs a confidential client")
    if spec.is_public and spec.allow_no_pkce:
        raise Invalid("allowNoPkce", "a public client (requireClientSecret: false) must use PKCE")
    if PASSWORD in grants and not spec.allow_ropc:
        raise Invalid("allowRopc", "the password grant needs allowRopc: true")
    if spec.allow_ropc and PASSWORD not in grants:
        raise Invalid("allowRopc", "allowRopc needs 'password' in allowedGrantTypes")
    if AUTHORIZATION_CODE in grants and not spec.redirect_uris:
        raise Invalid("redirectUris", "the authorization_code grant needs at least one redirect URI")


def _check_scope(scope: str, field_name: str, tenant_slug: str) -> None:
    if not is_scope_token(scope):
        raise Invalid(field_name, "is not a valid scope token (RFC 6749 §3.3)")
    if permissions.looks_like_permission(scope) and not permissions.is_permission(scope):
        raise Invalid(field_name, f"unknown permission {scope!r}")
    if scope == permissions.TENANTS_ADMIN and tenant_slug != SYSTEM_TENANT:
        raise Invalid(field_name, "tenants:admin can be granted only in the system tenant")


def _is_origin(origin: str) -> bool:
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    return (
        parts.scheme in {"http", "https"}
        and bool(parts.hostname)
        and parts.path == ""
        and not parts.query
        and not parts.fragment
        and parts.username is None
    )


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
