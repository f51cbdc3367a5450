"""RFC 6749 §4.3 resource owner password credentials ("ROPC") — for legacy clients only.

"The resource owner password credentials grant MUST NOT be used" (RFC 9700 §2.4): it is off
unless a client has ``allowRopc`` *and* the ``password`` grant (the client rules enforce both
together), it is never advertised in discovery, and every use is audited. The user is checked
as at the sign-in page — one ``invalid_grant`` for every failure, after the same argon2 work,
throttled per account — and ``restrictToRole`` applies. A user who must change their password
(``mustChangePassword``) gets ``invalid_grant`` saying so until they have, at the sign-in page.
The tokens are those of the code flow (no nonce in the ID token: there was no authorization
request).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Protocol

from pforte.domain.clients import PASSWORD
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import new_id
from pforte.domain.oauth.errors import InvalidGrant, InvalidRequest, InvalidScope, TooManyAttempts
from pforte.domain.oauth.scopes import is_scope_token, parse_scope
from pforte.domain.oauth.user_scopes import granted_user_scopes
from pforte.services import audit, refresh_tokens, sessions
from pforte.services.context import Context
from pforte.services.grants import user_tokens
from pforte.services.grants.grant import TokenRequest
from pforte.services.views import KeyView, TenantView

GRANT_TYPE = PASSWORD
PARAMETERS = frozenset({"username", "password", "scope"})
INVALID = "the username or password is not valid"
# Keycloak: "Account is not fully set up". The password was right: no failure is counted.
MUST_CHANGE = "the user must change their password at the sign-in page first"


class Storage(Protocol):
    def signing_key(self, tenant: TenantView, now: datetime) -> KeyView | None: ...


async def handle(ctx: Context, request: TokenRequest) -> dict[str, Any]:
    tenant, client, now = request.tenant, request.client, request.now
    username, password = request.parameters.get("username"), request.parameters.get("password")
    if username is None or password is None:
        raise InvalidRequest("username and password are required")
    asked = list(dict.fromkeys(parse_scope(request.parameters.get("scope") or "")))
    if any(not is_scope_token(s) or s not in client.scopes for s in asked):
        raise InvalidScope("a requested scope is not allowed for this client")
    key = user_tokens.signing_key(ctx.cache, request)
    account, _ = sessions.throttle_keys(username, None)
    blocked = ctx.sign_in_throttle.blocked(tenant.slug, account)
    if blocked is not None:
        raise TooManyAttempts(blocked)
    user = await sessions.check_password(ctx, tenant, username, password)
    if user is None:
        verdict = await ctx.sign_in_throttle.failed(tenant.slug, account)
        if verdict.retry_after is not None:
            raise TooManyAttempts(verdict.retry_after)
        if verdict.delay:
            await asyncio.sleep(verdict.delay)
        raise InvalidGrant(INVALID)
    if user.must_change_password:  # a new password is chosen at a page, never through a client
        raise InvalidGrant(MUST_CHANGE)
    async with ctx.db.transaction() as session:
        grantee = await user_tokens.grantee(ctx, session, request, key, user.id)
        if grantee is None:  # disabled or deleted since the password was checked
            raise InvalidGrant(INVALID)
        if client.restrict_to_role is not None and client.restrict_to_role not in grantee.roles:
            raise InvalidGrant("the user may not use this client")
        scopes = list(
            granted_user_scopes(
                asked,
                client_allowed=client.scopes,
                role_permissions=grantee.permissions,
                tenant_slug=tenant.slug,
            )
        )
        family = None
        if refresh_tokens.offered(client):
            family = user_tokens.Family(id=new_id(), scopes=scopes, session_id=None)
        issued = await grantee.issue(
            scopes=scopes,
            auth_time=now,
            sid=None,
            family=family,
            id_token=True,  # no nonce: there was no authorization request
        )
        actor = Actor(kind="client", id=client.client_id, tenant=tenant.slug, client_id=client.client_id)
        event = Event(EventName.PASSWORD_GRANT_USED, "user", str(user.id), {"clientId": client.client_id})
        audit.record(session, tenant_id=tenant.id, actor=actor, event=event, publish=False)
    return issued.response
