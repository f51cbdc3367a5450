"""RFC 8693 token exchange — impersonation: a client acts as a user of its tenant (DESIGN §7).

The client (confidential, holding ``users:impersonate``, registered for the grant) presents an
access token it got through client credentials as the ``subject_token`` and names the user in
``requested_subject``. The subject token passes the very check the platform APIs make of a
bearer JWT (``services.tokens.live_token``) and must be the authenticated client's own, acting
for itself, carrying ``users:impersonate``. The user must be an enabled user of the tenant whose
roles carry no permission the client does not hold itself.

The answer is an RFC 9068 access token for the user (as the user grants sign it, with ``roles``
and ``client_roles``) whose ``act`` names the client (§4.1), that expires no later than the
subject token, with neither refresh token nor ID token. Each exchange is audited
(``user.impersonated``); a refused one writes nothing.

Error codes (RFC 8693 §2.2.2): "If the request itself is not valid or if either the
subject_token or actor_token are invalid for any reason, or are unacceptable based on policy,
[...] the error parameter MUST be the invalid_request error code" — so ``invalid_request`` for a
malformed request, a subject token or a requested subject that does not qualify;
``unauthorized_client`` for a client that may not impersonate (RFC 6749 §5.2), ``invalid_scope``
for a widening scope, ``invalid_target`` for an unknown audience.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pforte.domain.clients import TOKEN_EXCHANGE
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.oauth import resource_indicators
from pforte.domain.oauth import token_exchange as rules
from pforte.domain.oauth.errors import InvalidRequest
from pforte.domain.oauth.scopes import parse_scope
from pforte.domain.oauth.user_scopes import granted_user_scopes
from pforte.services import audit, tokens
from pforte.services.context import Context
from pforte.services.grants import user_tokens
from pforte.services.grants.grant import TokenRequest
from pforte.services.tokens import LiveToken
from pforte.services.views import KeyView, TenantView

GRANT_TYPE = TOKEN_EXCHANGE
PARAMETERS = frozenset(
    {
        rules.SUBJECT_TOKEN,
        rules.SUBJECT_TOKEN_TYPE,
        rules.REQUESTED_SUBJECT,
        rules.REQUESTED_TOKEN_TYPE,
        rules.ACTOR_TOKEN,
        rules.ACTOR_TOKEN_TYPE,
        rules.AUDIENCE,
        resource_indicators.PARAMETER,
        "scope",
    }
)
INVALID_SUBJECT_TOKEN = (
    "the subject_token is invalid, expired, revoked, or not an access token this client got for itself"
)
NO_SUCH_USER = "the requested_subject is not an enabled user of this tenant"


class Storage(Protocol):
    """What this grant reads from the cache: the key that signs for the tenant now."""

    def signing_key(self, tenant: TenantView, now: datetime) -> KeyView | None: ...


async def handle(ctx: Context, request: TokenRequest) -> dict[str, Any]:
    tenant, client, parameters, now = request.tenant, request.client, request.parameters, request.now
    rules.check_client(confidential=client.confidential, scopes=client.scopes)
    subject_token, subject = rules.check_parameters(parameters)
    audience = rules.audience(
        parameters.get(rules.AUDIENCE),
        parameters.get(resource_indicators.PARAMETER),
        registered=(tenant.audience,),
        default=tenant.audience,
    )
    key = user_tokens.signing_key(ctx.cache, request)
    live = await _own_token(ctx, request, subject_token)
    asked = rules.requested_scopes(parameters.get("scope"), live.claims.get("scope"))
    now_s = int(now.timestamp())
    # "exp" never later than the subject token's: an exchange does not extend what was granted.
    lifetime = min(client.access_token_lifetime, live.claims["exp"] - now_s)
    async with ctx.db.transaction() as session:
        grantee = await user_tokens.grantee_named(ctx, session, request, key, subject)
        if grantee is None:
            raise InvalidRequest(NO_SUCH_USER)
        if client.restrict_to_role is not None and client.restrict_to_role not in grantee.roles:
            raise InvalidRequest("the user may not use this client")
        if not rules.may_impersonate(grantee.permissions, client.scopes, tenant.slug):
            raise InvalidRequest("the user holds permissions this client cannot grant itself")
        scopes = granted_user_scopes(
            asked, client_allowed=client.scopes, role_permissions=grantee.permissions, tenant_slug=tenant.slug
        )
        access_token, claims = grantee.access_token(
            scopes=scopes,
            auth_time=None,  # the user did not authenticate
            sid=None,
            lifetime=lifetime,
            audience=audience,
            act=rules.actor_claim(client.client_id, live.claims.get("act")),
        )
        actor = Actor(kind="client", id=client.client_id, tenant=tenant.slug, client_id=client.client_id)
        changes = {"clientId": client.client_id, "jti": claims["jti"], "scope": list(scopes)}
        event = Event(EventName.USER_IMPERSONATED, "user", str(grantee.user.id), changes)
        audit.record(session, tenant_id=tenant.id, actor=actor, event=event, publish=False)
    response = user_tokens.token_response(access_token, lifetime, scopes)
    response["issued_token_type"] = rules.ACCESS_TOKEN_TYPE  # RFC 8693 §2.2.1: REQUIRED
    return response


async def _own_token(ctx: Context, request: TokenRequest, subject_token: str) -> LiveToken:
    """The subject token, if it is live for the tenant (as on the platform APIs) and is the
    authenticated client's own token for itself — issued to this very client record, ``sub`` =
    ``client_id``, no user's (``roles``) — carrying ``users:impersonate``."""
    client = request.client
    live = await tokens.live_token(ctx, request.tenant, subject_token, request.now)
    if (
        live is None
        or live.client.pk != client.pk
        or live.claims["client_id"] != client.client_id
        or live.claims["sub"] != client.client_id
        or "roles" in live.claims
    ):
        raise InvalidRequest(INVALID_SUBJECT_TOKEN)
    if rules.IMPERSONATE not in parse_scope(live.claims.get("scope") or ""):
        raise InvalidRequest(f"the subject_token does not carry {rules.IMPERSONATE}")
    return live
