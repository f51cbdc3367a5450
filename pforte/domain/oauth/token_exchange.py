"""RFC 8693 token exchange, as Pforte offers it: impersonation only (DESIGN §7).

A confidential client holding ``users:impersonate`` presents its own access token as the
``subject_token`` and names a user of its tenant (``requested_subject``); it gets an access
token for that user whose ``act`` claim names the client — "the current actor" (§4.1).
Delegation (an ``actor_token``) is not offered: the authenticated client is always the actor.

The rules here are pure: which parameters a request must carry, what the ``act`` claim is, what
an impersonation token may be scoped to, and which users a client may act as at all ("never for
a user holding a permission the client could not grant itself").
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pforte.domain import permissions
from pforte.domain.ids import SYSTEM_TENANT
from pforte.domain.oauth import resource_indicators
from pforte.domain.oauth.errors import InvalidRequest, InvalidScope, InvalidTarget, UnauthorizedClient
from pforte.domain.oauth.scopes import is_scope_token, parse_scope

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # RFC 8693 §3
IMPERSONATE = "users:impersonate"
SUBJECT_TOKEN, SUBJECT_TOKEN_TYPE = "subject_token", "subject_token_type"
REQUESTED_SUBJECT, REQUESTED_TOKEN_TYPE = "requested_subject", "requested_token_type"
ACTOR_TOKEN, ACTOR_TOKEN_TYPE = "actor_token", "actor_token_type"
AUDIENCE = "audience"


def check_client(*, confidential: bool, scopes: Collection[str]) -> None:
    """ "The authenticated client is not authorized to use this authorization grant type."
    (RFC 6749 §5.2): a public client proves nothing about itself, and only a holder of
    ``users:impersonate`` may act as a user."""
    if not confidential:
        raise UnauthorizedClient("token exchange needs a confidential client")
    if IMPERSONATE not in scopes:
        raise UnauthorizedClient(f"this client does not hold the permission {IMPERSONATE}")


def check_parameters(parameters: Mapping[str, str]) -> tuple[str, str]:
    """The ``subject_token`` and ``requested_subject`` of a well-formed request; otherwise
    ``invalid_request`` naming what is wrong (RFC 8693 §2.1, §2.2.2)."""
    if ACTOR_TOKEN in parameters or ACTOR_TOKEN_TYPE in parameters:
        raise InvalidRequest(
            "actor_token is not supported: this server offers impersonation only, "
            "and the authenticated client is the actor"
        )
    subject_token = parameters.get(SUBJECT_TOKEN)
    if not subject_token:
        raise InvalidRequest("subject_token is required")
    # "subject_token_type ... REQUIRED" (§2.1); only this server's own access tokens are taken.
    if parameters.get(SUBJECT_TOKEN_TYPE) != ACCESS_TOKEN_TYPE:
        raise InvalidRequest(f"subject_token_type must be {ACCESS_TOKEN_TYPE}")
    requested = parameters.get(REQUESTED_TOKEN_TYPE)
    if requested is not None and requested != ACCESS_TOKEN_TYPE:
        raise InvalidRequest(f"requested_token_type must be {ACCESS_TOKEN_TYPE} (or absent)")
    subject = parameters.get(REQUESTED_SUBJECT)
    if not subject:
        raise InvalidRequest("requested_subject (a user's id or username) is required")
    return subject_token, subject


def audience(
    asked_audience: str | None, asked_resource: str | None, *, registered: tuple[str, ...], default: str
) -> str:
    """The ``aud`` of the token: the RFC 8707 ``resource`` as the client credentials grant takes
    it, or the ``audience`` (RFC 8693 §2.1, a logical name) when it names a registered one. A
    token has one audience here, so the two, if both given, must agree; else ``invalid_target``
    ("unwilling or unable to issue a token for any target service indicated", §2.2.2)."""
    aud = resource_indicators.audience(asked_resource, registered=registered, default=default)
    if asked_audience is None:
        return aud
    if asked_audience not in registered:
        raise InvalidTarget("the audience is not known to this server")
    if asked_resource is not None and asked_audience != aud:
        raise InvalidTarget("ask for one audience per token")
    return asked_audience


def requested_scopes(requested: str | None, subject_scope: str | None) -> list[str]:
    """The scopes asked for, each once: by default the subject token's without
    ``users:impersonate``. "scope ... the requested scope MUST NOT include any scope not
    originally granted" holds here as for a refresh (RFC 6749 §6): the exchange narrows only."""
    carried = [s for s in dict.fromkeys(parse_scope(subject_scope or "")) if s != IMPERSONATE]
    if requested is None:
        return carried
    asked = list(dict.fromkeys(parse_scope(requested)))
    for scope in asked:
        if scope == IMPERSONATE:
            raise InvalidScope(f"an impersonation token cannot carry {IMPERSONATE}")
        if not is_scope_token(scope) or scope not in carried:
            raise InvalidScope("a requested scope is not carried by the subject token")
    return asked


def may_impersonate(
    user_permissions: frozenset[str], client_scopes: Collection[str], tenant_slug: str
) -> bool:
    """Whether every permission the user's roles carry is one the client holds itself — a client
    never becomes more than it is by acting as someone (DESIGN §3: "No principal grants what it
    does not hold"). ``tenants:admin`` counts only in ``system``, where it implies everything."""
    held_by_client = frozenset(s for s in client_scopes if permissions.is_permission(s))
    held_by_user = frozenset(p for p in user_permissions if permissions.is_permission(p))
    if tenant_slug != SYSTEM_TENANT:
        held_by_client -= {permissions.TENANTS_ADMIN}
        held_by_user -= {permissions.TENANTS_ADMIN}
    if permissions.TENANTS_ADMIN in held_by_user:  # every permission of every tenant
        return permissions.TENANTS_ADMIN in held_by_client
    return all(permissions.holds(held_by_client, p) for p in held_by_user)


def actor_claim(client_id: str, subject_act: object = None) -> dict[str, Any]:
    """ "act ... identifies the acting party to whom authority has been delegated" (§4.1): the
    client; an ``act`` the subject token carried already is nested as the prior actor."""
    act: dict[str, Any] = {"sub": client_id}
    if isinstance(subject_act, dict):
        act["act"] = subject_act
    return act
