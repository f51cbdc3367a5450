"""RFC 6749 §6 refresh token grant, with rotation (RFC 9700 §4.14.2).

"The authorization server MUST ... validate the refresh token ... ensure that the refresh token
was issued to the authenticated client" (§6). Each use rotates: the token presented is used
up and a new one of the same family is returned. Presenting a used-up (or revoked) token is
reuse, a sign that it leaked: the whole family is revoked and the answer is ``invalid_grant``.
The new access token carries the user's roles as they are now; ``scope`` may narrow the
original grant, never widen it ("MUST NOT include any scope not originally granted").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clients import REFRESH_TOKEN
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.oauth.errors import InvalidGrant, InvalidRequest, InvalidScope
from pforte.domain.oauth.scopes import parse_scope
from pforte.domain.oauth.user_scopes import granted_user_scopes
from pforte.services import audit
from pforte.services.context import Context
from pforte.services.grants import user_tokens
from pforte.services.grants.grant import TokenRequest
from pforte.services.views import KeyView, TenantView
from pforte.store.repos.sessions import RefreshTokenRepo, UsedRefreshToken
from pforte.store.tables import RefreshTokenRow

GRANT_TYPE = REFRESH_TOKEN
PARAMETERS = frozenset({"refresh_token", "scope"})
INVALID = "the refresh token is invalid, expired, revoked, or was issued to another client"


class Storage(Protocol):
    """What this grant reads from the cache: the key that signs for the tenant now."""

    def signing_key(self, tenant: TenantView, now: datetime) -> KeyView | None: ...


async def handle(ctx: Context, request: TokenRequest) -> dict[str, Any]:
    presented = request.parameters.get("refresh_token")
    if presented is None:
        raise InvalidRequest("refresh_token is required")
    key = user_tokens.signing_key(ctx.cache, request)
    tenant_id, client, token_hash = request.tenant.id, request.client, ctx.hasher.hash(presented)
    async with ctx.db.transaction() as session:
        repo = RefreshTokenRepo(session)
        used = await repo.use(tenant_id, token_hash, client_pk=client.pk, now=request.now)
        if used is not None:
            # A refusal from here on rolls the rotation back: the token stays usable.
            return await _rotate(ctx, session, request, used, key)
        # Unknown, another client's, rotated already (reuse), revoked or expired.
        row = await repo.lock(tenant_id, token_hash)
        if row is None or row.client_pk != client.pk or row.used_at is None:
            raise InvalidGrant(INVALID)
        await _reused(session, request, row)
    raise InvalidGrant(INVALID)


async def _rotate(
    ctx: Context, session: AsyncSession, request: TokenRequest, token: UsedRefreshToken, key: KeyView
) -> dict[str, Any]:
    tenant, client = request.tenant, request.client
    grantee = await user_tokens.grantee(ctx, session, request, key, token.user_id)
    if grantee is None:
        raise InvalidGrant(INVALID)
    # What the user may hold now, of what was granted then (a role taken away takes its scope).
    still = granted_user_scopes(
        token.scopes,
        client_allowed=client.scopes,
        role_permissions=grantee.permissions,
        tenant_slug=tenant.slug,
    )
    asked = request.parameters.get("scope")
    if asked is not None:
        wanted = list(dict.fromkeys(parse_scope(asked)))
        if not set(wanted) <= set(token.scopes):
            raise InvalidScope("a refresh may not ask for a scope the original grant did not include")
        scopes = [s for s in wanted if s in still]
    else:
        scopes = list(still)
    issued = await grantee.issue(
        scopes=scopes,
        auth_time=token.auth_time,
        sid=token.sid,
        # The grant stays what it was; each access token gets what holds now.
        family=user_tokens.Family(id=token.family_id, scopes=token.scopes, session_id=token.session_id),
        id_token=False,
    )
    response = issued.response
    response["scope"] = response.pop("scope")  # this grant has always answered it last
    return response


async def _reused(session: AsyncSession, request: TokenRequest, row: RefreshTokenRow) -> None:
    """A rotated token presented again: revoke its family, record it."""
    tenant = request.tenant
    revoked = await RefreshTokenRepo(session).revoke_family(tenant.id, row.family_id, request.now)
    actor = Actor(
        kind="client", id=request.client.client_id, tenant=tenant.slug, client_id=request.client.client_id
    )
    changes = {"clientId": request.client.client_id, "familyRevoked": revoked}
    event = Event(EventName.REFRESH_TOKEN_REUSED, "user", str(row.user_id), changes)
    audit.record(session, tenant_id=tenant.id, actor=actor, event=event, publish=False)
