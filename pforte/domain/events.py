"""The audit event catalogue: ``noun.past_verb`` names (mirrored in docs/events.md).

An event records who (actor), where (tenant), what (target) and which fields changed —
never a secret, key or password value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventName(StrEnum):
    TENANT_CREATED = "tenant.created"
    TENANT_UPDATED = "tenant.updated"
    TENANT_DELETED = "tenant.deleted"
    SIGNING_KEY_CREATED = "signing_key.created"
    SIGNING_KEY_ROTATED = "signing_key.rotated"
    CLIENT_CREATED = "client.created"
    CLIENT_UPDATED = "client.updated"
    CLIENT_DELETED = "client.deleted"
    CLIENT_SECRET_CREATED = "client_secret.created"
    CLIENT_SECRET_REVOKED = "client_secret.revoked"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_DELETED = "user.deleted"
    USER_PASSWORD_CHANGED = "user.password_changed"
    USER_ROLE_ADDED = "user.role_added"
    USER_ROLE_REMOVED = "user.role_removed"
    USER_SIGNED_IN = "user.signed_in"
    USER_SIGN_IN_FAILED = "user.sign_in_failed"
    USER_SIGNED_OUT = "user.signed_out"
    AUTHORIZATION_CODE_REUSED = "authorization_code.reused"
    REFRESH_TOKEN_REUSED = "refresh_token.reused"
    PASSWORD_GRANT_USED = "password_grant.used"
    USER_IMPERSONATED = "user.impersonated"
    CONSENT_GIVEN = "consent.given"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    ROLE_CREATED = "role.created"
    ROLE_UPDATED = "role.updated"
    ROLE_DELETED = "role.deleted"
    CLIENT_ROLE_CREATED = "client_role.created"
    CLIENT_ROLE_DELETED = "client_role.deleted"
    # Recorded in batches (``services.event_buffer``): up to a flush interval may be lost on a crash.
    TOKEN_ISSUED = "token.issued"
    CLIENT_AUTHENTICATION_FAILED = "client.authentication_failed"
    # Written once per credential by the daily expiry check (``services.expiry_warnings``).
    CLIENT_SECRET_EXPIRING = "client_secret.expiring"
    API_KEY_EXPIRING = "api_key.expiring"


# The events the token endpoint writes in batches, not in a transaction of their own.
BATCHED = frozenset({EventName.TOKEN_ISSUED, EventName.CLIENT_AUTHENTICATION_FAILED})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: ``kind`` is ``api_key``, ``client`` or ``system`` (the server itself)."""

    kind: str
    id: str
    tenant: str
    client_id: str | None = None

    def label(self) -> str:
        return f"{self.kind}:{self.id}"


SYSTEM_ACTOR = Actor(kind="system", id="pforte", tenant="system")
CLI_ACTOR = Actor(kind="system", id="cli", tenant="system")  # an operator at the `pforte` command


@dataclass(frozen=True, slots=True)
class Event:
    name: EventName
    target_type: str
    target_id: str
    changes: dict[str, Any] = field(default_factory=dict)

    def subjects(self) -> tuple[str | None, str | None]:
        """The client id and the user id the event concerns (the Event API filters on them):
        the client a client, consent or credential event names, the user a user event names
        (a failed sign-in names only what was typed, which is no user id)."""
        client_id = self.changes.get("clientId")
        if self.target_type in ("client", "consent"):
            client_id = self.target_id
        elif self.target_type == "client_role":
            client_id = self.target_id.partition("/")[0]
        user_id = None
        if self.target_type == "user" and self.name is not EventName.USER_SIGN_IN_FAILED:
            user_id = self.target_id
        return (client_id if isinstance(client_id, str) else None), user_id
