"""Admin API models: camelCase on the wire, split by direction (Create / Update / Public).

A secret or key value appears only in a ``…Created`` model, in the response that creates it.
Every incoming string is a ``Line`` (no C0 control character, no DEL) or, for descriptions,
``FreeText`` (TAB, LF and CR allowed): refused with 422 before any query (``domain.text``).

A client's fields and defaults are declared once, by ``domain.clients.ClientSpec``: the client
models take its defaults (``CLIENT_DEFAULTS``), and ``tests/test_client_shape.py`` checks their
fields and types against it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from pforte.domain.clients import CLIENT_DEFAULTS, GRANT_TYPES, MAX_ACCESS_TOKEN_LIFETIME, MAX_LIFETIME
from pforte.domain.ids import CLIENT_ID_PATTERN, SLUG_PATTERN
from pforte.domain.oauth.scopes import SCOPE_TOKEN_RE
from pforte.domain.pagination import Page
from pforte.domain.roles import ROLE_NAME_PATTERN
from pforte.domain.text import FREE_TEXT_PATTERN, LINE_PATTERN, PATTERN_MESSAGES, has_control

T = TypeVar("T")

Line = Annotated[StrictStr, StringConstraints(pattern=LINE_PATTERN)]
FreeText = Annotated[StrictStr, StringConstraints(pattern=FREE_TEXT_PATTERN)]
Text200 = Annotated[Line, Field(max_length=200)]
Text2000 = Annotated[Line, Field(max_length=2000)]
UriList = Annotated[list[Text2000], Field(max_length=100)]


def _no_control(value: str) -> str:
    """Control characters are refused here, with the text rule's message, for every field; the
    field's own rule (declared as its pattern or enum) is the domain's to check and word."""
    if has_control(value):
        raise PydanticCustomError("control_character", PATTERN_MESSAGES[LINE_PATTERN])
    return value


# Declared in the document, checked by the domain (its messages name the rule): pattern, enum, range.
Token = Annotated[StrictStr, AfterValidator(_no_control)]
ClientIdText = Annotated[
    Token, Field(description="[A-Za-z0-9._~-]{1,128}", json_schema_extra={"pattern": CLIENT_ID_PATTERN})
]
GrantType = Annotated[Token, Field(json_schema_extra={"enum": list(GRANT_TYPES)})]
ScopeToken = Annotated[
    Token,
    Field(
        max_length=200,
        description="an RFC 6749 §3.3 scope token; a permission (`api:action`) must be in the catalogue",
        json_schema_extra={"pattern": f"^{SCOPE_TOKEN_RE.pattern}$"},
    ),
]


class Incoming(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", populate_by_name=False)


class Outgoing(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, from_attributes=True, populate_by_name=True)


class PageOut(Outgoing, Generic[T]):
    items: list[T]
    next: str | None = Field(description="cursor of the next page; null on the last page")


def page_out(page: Page[T]) -> PageOut[T]:
    """A page of a service's records, converted to models (``page.map``), as the API sends it."""
    return PageOut(items=page.items, next=page.next)


# --- tenants -------------------------------------------------------------------------------


class TenantCreate(Incoming):
    slug: Token = Field(
        description="[a-z0-9][a-z0-9-]{1,62}; part of the issuer URL, fixed",
        json_schema_extra={"pattern": SLUG_PATTERN},
    )
    display_name: Text200 | None = None
    signing_alg: Token = Field(
        "ES256", description="ES256 (default) or RS256", json_schema_extra={"enum": ["ES256", "RS256"]}
    )


class TenantUpdate(Incoming):
    display_name: Text200 | None = None


class TenantPublic(Outgoing):
    id: uuid.UUID
    slug: str
    display_name: str
    signing_alg: str
    issuer: str
    created_at: datetime
    updated_at: datetime


class SigningKeyPublic(Outgoing):
    kid: str = Field(description="the key's id in the JWKS and in the tokens it signs (RFC 7638 thumbprint)")
    alg: str
    created_at: datetime
    active_from: datetime = Field(description="signs from then on, until a newer key does")
    retired_at: datetime | None = Field(
        description="leaves the JWKS then, once every token it signed has expired; null: not set"
    )
    status: Literal["next", "active", "retiring"] = Field(
        description="next: published, not yet signing; active: signing now; retiring: published, "
        "no longer signs"
    )


# --- clients -------------------------------------------------------------------------------


class ClientFields(Incoming):
    """Every setting of a client (DESIGN.md §3), with its default (``domain.clients``)."""

    client_id: ClientIdText | None = None
    client_name: Text200 | None = CLIENT_DEFAULTS.client_name
    description: Annotated[FreeText, Field(max_length=2000)] | None = CLIENT_DEFAULTS.description
    owner: Text200 | None = CLIENT_DEFAULTS.owner
    enabled: StrictBool = CLIENT_DEFAULTS.enabled
    require_client_secret: StrictBool = CLIENT_DEFAULTS.require_client_secret
    allowed_grant_types: Annotated[list[GrantType], Field(max_length=10)] = (
        CLIENT_DEFAULTS.allowed_grant_types
    )
    allowed_scopes: Annotated[list[ScopeToken], Field(max_length=200)] = CLIENT_DEFAULTS.allowed_scopes
    redirect_uris: UriList = Field(
        CLIENT_DEFAULTS.redirect_uris,
        description="absolute URIs, matched exactly; https, or http on a loopback host",
    )
    allow_redirect_uri_prefix: StrictBool = CLIENT_DEFAULTS.allow_redirect_uri_prefix
    post_logout_redirect_uris: UriList = CLIENT_DEFAULTS.post_logout_redirect_uris
    allowed_cors_origins: UriList = CLIENT_DEFAULTS.allowed_cors_origins
    allow_offline_access: StrictBool = CLIENT_DEFAULTS.allow_offline_access
    require_consent: StrictBool = CLIENT_DEFAULTS.require_consent
    allow_remember_consent: StrictBool = CLIENT_DEFAULTS.allow_remember_consent
    allow_no_pkce: StrictBool = CLIENT_DEFAULTS.allow_no_pkce
    allow_ropc: StrictBool = CLIENT_DEFAULTS.allow_ropc
    back_channel_logout_uri: Text2000 | None = CLIENT_DEFAULTS.back_channel_logout_uri
    back_channel_logout_session_required: StrictBool = CLIENT_DEFAULTS.back_channel_logout_session_required
    restrict_to_role: Text200 | None = CLIENT_DEFAULTS.restrict_to_role
    show_in_account_console: StrictBool = CLIENT_DEFAULTS.show_in_account_console
    access_token_lifetime: StrictInt = Field(
        CLIENT_DEFAULTS.access_token_lifetime,
        description="seconds",
        json_schema_extra={"minimum": 1, "maximum": MAX_ACCESS_TOKEN_LIFETIME},
    )
    refresh_token_lifetime: StrictInt = Field(
        CLIENT_DEFAULTS.refresh_token_lifetime,
        description="seconds",
        json_schema_extra={"minimum": 1, "maximum": MAX_LIFETIME},
    )


class ClientUpdate(ClientFields):
    """PUT: fields not given take their defaults. PATCH: only fields given change."""

    # The read-only members of the client's GET, so that GET → edit → PUT works: ignored when
    # equal to the stored values, 422 when not.
    id: uuid.UUID | None = Field(None, description="read-only; accepted when equal to the stored value")
    created_at: datetime | None = Field(None, description="read-only; accepted when equal")
    updated_at: datetime | None = Field(None, description="read-only; accepted when equal")


class ClientCreate(ClientFields):
    client_id: ClientIdText


class ClientPublic(Outgoing):
    id: uuid.UUID
    client_id: str
    client_name: str | None
    description: str | None
    owner: str | None
    enabled: bool
    require_client_secret: bool
    allowed_grant_types: list[str]
    allowed_scopes: list[str]
    redirect_uris: list[str]
    allow_redirect_uri_prefix: bool
    post_logout_redirect_uris: list[str]
    allowed_cors_origins: list[str]
    allow_offline_access: bool
    require_consent: bool
    allow_remember_consent: bool
    allow_no_pkce: bool
    allow_ropc: bool
    back_channel_logout_uri: str | None
    back_channel_logout_session_required: bool
    restrict_to_role: str | None
    show_in_account_console: bool
    access_token_lifetime: int
    refresh_token_lifetime: int
    created_at: datetime
    updated_at: datetime


# --- secrets -------------------------------------------------------------------------------

# Set by the server from the caller, shown read-only, never accepted in a request body.
CreatedBy = Annotated[
    str | None,
    Field(
        description="the actor that created it, as audit events name actors (`api_key:<id>`, "
        "`client:<clientId>`, `user:<id>`, `system:pforte`, `system:cli`); null: created before "
        "Pforte recorded it",
        json_schema_extra={"readOnly": True},
    ),
]


class SecretCreate(Incoming):
    description: Annotated[FreeText, Field(max_length=500)] | None = None
    start_time: datetime | None = Field(
        None, description="when the secret becomes valid, with a time zone offset; default: now"
    )
    expiration: datetime | None = Field(
        None,
        description="when the secret stops being valid, with a time zone offset: in the future, at "
        "least one day and at most three years (36 months) after startTime; default: six months "
        "after creation",
    )


class SecretPublic(Outgoing):
    id: uuid.UUID
    description: str | None
    start_time: datetime
    expiration: datetime
    value_display: str
    created_at: datetime
    created_by: CreatedBy
    last_used_at: datetime | None
    newest: bool = Field(
        False,
        description="the client's newest unexpired secret (latest startTime, then createdAt): "
        "after a rotation, the one to use; the others can be revoked once it is in place",
    )


class SecretCreated(SecretPublic):
    value: str = Field(description="shown this once; only a hash is stored")


class ClientCreated(ClientPublic):
    secret: SecretCreated | None = Field(
        description="the first secret of a confidential client, value shown this once"
    )


# --- API keys ------------------------------------------------------------------------------


class ApiKeyCreate(Incoming):
    name: Text200 | None = Field(None, description="default: generated from the time of creation")
    scopes: Annotated[list[Line], Field(max_length=50)] | None = Field(
        None, description="a subset of the client's permissions; default: all of them"
    )
    expiration: datetime | None = Field(None, description="default: none")


class ApiKeyPublic(Outgoing):
    id: uuid.UUID
    name: str
    value_display: str
    scopes: list[str]
    expiration: datetime | None
    created_at: datetime
    created_by: CreatedBy
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    value: str = Field(description="shown this once; only a hash is stored")


# --- catalogue and guide -------------------------------------------------------------------


class Descriptions(Outgoing):
    en: str
    de: str


class PermissionOut(Outgoing):
    name: str
    api: str
    description: Descriptions


class Snippets(Outgoing):
    curl: str
    python: str


class GuideApiOut(Outgoing):
    name: str = Field(description="as the API console's selector names it, e.g. `user/v1`")
    title: str
    base: str = Field(description="the tenant's part of the API")
    console: str = Field(
        description="the API console with this API selected and the client's sign-in pre-filled: "
        "type the secret, Authorize, Try it out"
    )
    curl: str = Field(description="a first call, with the token the guide's snippets fetch")


class NewestSecretOut(Outgoing):
    id: uuid.UUID
    value_display: str
    expiration: datetime


class GuideOut(Outgoing):
    tenant: str
    issuer: str
    discovery_url: str
    token_url: str
    jwks_uri: str
    client_id: str
    client_type: str
    token_endpoint_auth_methods: list[str]
    grant_types: list[str]
    permissions: list[PermissionOut]
    scopes: list[str]
    api_console: str
    admin_api_base: str
    snippets: Snippets
    apis: list[GuideApiOut] = Field(description="each API the client's permissions open")
    newest_secret: NewestSecretOut | None = Field(
        description="the client's newest unexpired secret (the one to use after a rotation); "
        "null for a public client or when every secret has expired"
    )


# --- roles and client roles (DESIGN.md §6, §7) -----------------------------------------------

RoleNameText = Annotated[Token, Field(description="letters, digits, '.', '_', ':', '-'; 1-100")]
RoleDescription = Annotated[FreeText, Field(max_length=1000)]


class RoleCreate(Incoming):
    name: RoleNameText = Field(json_schema_extra={"pattern": ROLE_NAME_PATTERN})
    description: RoleDescription | None = None
    permissions: Annotated[list[ScopeToken], Field(max_length=100)] = Field(
        default_factory=list, description="permissions of the catalogue; the caller must hold each"
    )


class RoleUpdate(Incoming):
    """A member left out stays as it is; the built-in `admin` role's permissions cannot change."""

    description: RoleDescription | None = None
    permissions: Annotated[list[ScopeToken], Field(max_length=100)] | None = None


class RolePublic(Outgoing):
    name: str
    description: str | None
    permissions: list[str]
    builtin: bool = Field(description="the built-in `admin` role: every permission, not deletable")
    created_at: datetime
    updated_at: datetime


class ClientRoleCreate(Incoming):
    name: RoleNameText = Field(json_schema_extra={"pattern": ROLE_NAME_PATTERN})
    description: RoleDescription | None = None


class ClientRolePublic(Outgoing):
    client_id: str
    name: str
    description: str | None
    created_at: datetime
