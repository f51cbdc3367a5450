"""What a user's token may carry (DESIGN §6) and the claims its scopes release (OIDC Core §5.4).

"A user's token carries permissions only through the user's roles: its scope is the requested
scopes ∩ the client's allowedScopes ∩ (OIDC scopes ∪ permissions of the user's roles)."
(DESIGN §6). Permissions are read as ``domain/permissions`` defines them: ``tenants:admin``
counts only in the ``system`` tenant, and there it holds every permission. A tenant-defined
scope (neither OIDC nor a permission) is granted only when one of the user's roles lists it,
as the formula says; ``offline_access`` is an OIDC scope here, its client flag is checked with
the request (``authorization_requests``).

``userinfo_claims`` is the UserInfo response (OIDC Core §5.3.2) and the ID Token's user claims:
``sub`` always; ``profile`` releases ``preferred_username``, ``given_name``, ``family_name``,
``name`` and ``updated_at``; ``email`` releases ``email`` and ``email_verified``. "If a Claim is
not returned, that Claim Name SHOULD be omitted from the JSON object representing the Claims; it
SHOULD NOT be present with a null or empty string value." (OIDC Core §5.3.2)
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from pforte.domain import permissions
from pforte.domain.ids import SYSTEM_TENANT
from pforte.domain.oauth.scopes import OIDC_SCOPES

PROFILE = "profile"
EMAIL = "email"


def granted_user_scopes(
    requested: Iterable[str],
    *,
    client_allowed: Collection[str],
    role_permissions: frozenset[str],
    tenant_slug: str,
) -> tuple[str, ...]:
    """The scopes of ``requested`` (in its order, each once) that a token for this user and
    client may carry. ``role_permissions``: the union of the permissions of the user's roles."""
    held = role_permissions
    if tenant_slug != SYSTEM_TENANT:
        # tenants:admin "exists only in the system tenant" (domain/permissions): elsewhere it
        # neither is granted nor implies anything.
        held = role_permissions - {permissions.TENANTS_ADMIN}
    granted: list[str] = []
    for scope in dict.fromkeys(requested):
        if scope not in client_allowed:
            continue
        if scope in OIDC_SCOPES:
            granted.append(scope)
        elif permissions.is_permission(scope):
            if permissions.holds(held, scope):
                granted.append(scope)
        elif scope in held:
            granted.append(scope)
    return tuple(granted)


class UserClaimsSource(Protocol):
    """What ``userinfo_claims`` reads of a user (read-only: attributes or properties)."""

    @property
    def id(self) -> uuid.UUID | str: ...
    @property
    def username(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def email_verified(self) -> bool: ...
    @property
    def given_name(self) -> str | None: ...
    @property
    def family_name(self) -> str | None: ...
    @property
    def updated_at(self) -> datetime: ...


def userinfo_claims(user: UserClaimsSource, scopes: Collection[str]) -> dict[str, Any]:
    """The claims about ``user`` that ``scopes`` release."""
    claims: dict[str, Any] = {"sub": str(user.id)}
    if PROFILE in scopes:
        given, family = _present(user.given_name), _present(user.family_name)
        claims.update(
            {
                "preferred_username": _present(user.username),
                "given_name": given,
                "family_name": family,
                "name": " ".join(part.strip() for part in (given, family) if part) or None,
                "updated_at": _epoch(user.updated_at),
            }
        )
    if EMAIL in scopes and (email := _present(user.email)) is not None:
        # email_verified says something about an address; without one it says nothing.
        claims.update({"email": email, "email_verified": bool(user.email_verified)})
    return {name: value for name, value in claims.items() if value is not None}


def _present(value: str | None) -> str | None:
    """The value as stored, or None when it is absent, empty or only whitespace."""
    return value if value is not None and value.strip() else None


def _epoch(moment: datetime) -> int:
    """Seconds since 1970-01-01T00:00:00Z; a naive datetime is read as UTC (the store's)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
