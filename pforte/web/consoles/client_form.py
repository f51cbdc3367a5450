"""The console's client settings form: the "connect application" catalogue's presets, and the
translation between a ``ClientSpec`` and the HTML form (Bare.ID's groups: General, Advanced,
Permissions). The rules are the domain's (``domain.clients.validate`` in the service): the form
only carries values, and shows the service's refusal at the field it names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Final

from pydantic.alias_generators import to_camel

from pforte.domain.clients import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    GRANT_TYPES,
    PASSWORD,
    REFRESH_TOKEN,
    ClientSpec,
)
from pforte.domain.permissions import grantable_in, is_permission

OIDC_CHOICES: Final = ("openid", "profile", "email", "offline_access")
LINES: Final = ("redirect_uris", "post_logout_redirect_uris", "allowed_cors_origins")
FLAGS: Final = (
    "enabled",
    "show_in_account_console",
    "require_consent",
    "require_client_secret",
    "allow_redirect_uri_prefix",
    "allow_offline_access",
    "allow_remember_consent",
    "allow_no_pkce",
    "allow_ropc",
    "back_channel_logout_session_required",
)
TEXTS: Final = ("client_name", "description", "owner", "restrict_to_role", "back_channel_logout_uri")
NUMBERS: Final = ("access_token_lifetime", "refresh_token_lifetime")


@dataclass(frozen=True, slots=True)
class Kind:
    """One card of the catalogue: what it sets, and which fields it shows before "Advanced"."""

    key: str
    preset: dict[str, Any]
    first: tuple[str, ...]  # field names shown outside "Advanced"
    permissions_first: bool = False


KINDS: Final = (
    Kind(
        "api-client",
        {"allowed_grant_types": [CLIENT_CREDENTIALS]},
        ("client_name", "description", "owner"),
        permissions_first=True,
    ),
    Kind(
        "web-app",
        {
            "allowed_grant_types": [AUTHORIZATION_CODE, REFRESH_TOKEN],
            "allowed_scopes": ["openid", "profile", "email"],
            "allow_offline_access": True,
        },
        ("client_name", "description", "owner", "redirect_uris", "post_logout_redirect_uris"),
    ),
    Kind(
        "spa",
        {
            "require_client_secret": False,
            "allowed_grant_types": [AUTHORIZATION_CODE, REFRESH_TOKEN],
            "allowed_scopes": ["openid", "profile", "email"],
        },
        ("client_name", "description", "owner", "redirect_uris", "allowed_cors_origins"),
    ),
    Kind(
        "native",
        {
            "require_client_secret": False,
            "allowed_grant_types": [AUTHORIZATION_CODE, REFRESH_TOKEN],
            "allowed_scopes": ["openid", "profile", "offline_access"],
            "redirect_uris": ["http://127.0.0.1/callback"],
            "allow_offline_access": True,
        },
        ("client_name", "description", "owner", "redirect_uris"),
    ),
    Kind(
        "api-keys",
        {"require_client_secret": False, "allowed_grant_types": []},
        ("client_name", "description", "owner"),
        permissions_first=True,
    ),
)
BY_KEY: Final = {k.key: k for k in KINDS}


@dataclass
class FormState:
    """What the form shows: values by field name, and errors by field name."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    other_scopes: str = ""

    def error_for(self, name: str) -> str | None:
        return self.errors.get(name)


def state_of(spec: ClientSpec) -> FormState:
    values = asdict(spec)
    custom = [s for s in spec.allowed_scopes if not is_permission(s) and s not in OIDC_CHOICES]
    return FormState(values=values, other_scopes=" ".join(custom))


def preset(kind: Kind) -> FormState:
    return state_of(ClientSpec(client_id="", **kind.preset))


def read(
    form: Sequence[tuple[str, str]], *, client_id: str | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The ``ClientSpec`` fields the form sends, and the errors of values that are not even of
    the right kind (a number field holding letters); the service judges the rest."""
    single: dict[str, str] = {}
    ticked: dict[str, list[str]] = {}
    for name, value in form:
        ticked.setdefault(name, []).append(value)
        single.setdefault(name, value)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "client_id": client_id if client_id is not None else single.get("client_id", "").strip()
    }
    for name in TEXTS:
        text = single.get(name, "").strip()
        values[name] = text or None
    for name in FLAGS:
        values[name] = name in ticked
    for name in LINES:
        values[name] = [line.strip() for line in single.get(name, "").splitlines() if line.strip()]
    for name in NUMBERS:
        raw = single.get(name, "").strip()
        if raw.isdigit() and len(raw) <= 9:
            values[name] = int(raw)
        else:
            errors[name] = "must be a whole number of seconds"
    values["allowed_grant_types"] = [g for g in ticked.get("allowed_grant_types", []) if g in GRANT_TYPES]
    scopes = [s for s in ticked.get("allowed_scopes", []) if s]
    scopes += single.get("other_scopes", "").split()
    values["allowed_scopes"] = list(dict.fromkeys(scopes))
    return values, errors


def spec_from(values: dict[str, Any], defaults: ClientSpec | None = None) -> ClientSpec:
    known = {f.name for f in fields(ClientSpec)}
    base = asdict(defaults) if defaults is not None else {}
    return ClientSpec(**{**base, **{k: v for k, v in values.items() if k in known}})


def field_of(path: str) -> str:
    """The form field an ``Invalid`` path names ("redirectUris[0]" → "redirect_uris")."""
    head = path.split("[", 1)[0].split(".", 1)[0]
    for name in (f.name for f in fields(ClientSpec)):
        if to_camel(name) == head:
            return name
    return head


def permission_choices(
    tenant_slug: str, held: frozenset[str], operator: bool, locale: str
) -> list[dict[str, Any]]:
    """The catalogue's checkboxes: label and description in the locale; only what the signed-in
    person holds can be ticked (no one grants what they lack)."""
    return [
        {
            "name": p.name,
            "title": (p.title_de if locale == "de" else p.title_en) or p.name,
            "description": p.description_de if locale == "de" else p.description_en,
            "grantable": operator or p.name in held,
        }
        for p in grantable_in(tenant_slug)
    ]


GRANT_CHOICES: Final = (CLIENT_CREDENTIALS, AUTHORIZATION_CODE, REFRESH_TOKEN, PASSWORD)
