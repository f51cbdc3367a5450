"""RFC 6749 §4.1.3 authorization code grant (with RFC 7636 PKCE), issuing an RFC 9068 access
token for the user and, for ``openid``, an OIDC Core §2 ID token.

"The authorization server MUST ... ensure that the authorization code was issued to the
authenticated confidential client, or if the client is public, ensure that the code was issued
to "client_id" in the request, verify that the authorization code is valid, and ensure that the
"redirect_uri" parameter is present if the "redirect_uri" parameter was included in the initial
authorization request ... and if included ensure that their values are identical." (§4.1.3)

A code is held while it is exchanged, so of two exchanges the second sees it used. Any attempt
that finds the code uses it up, even a failing one (a wrong verifier cannot be retried); a
second use is refused and revokes the access token the first issued ("the authorization server
... SHOULD revoke (when possible) all tokens previously issued based on that authorization
code", §4.1.2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clients import AUTHORIZATION_CODE
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import new_id
from pforte.domain.oauth import pkce
from pforte.domain.oauth.errors import InvalidGrant, InvalidRequest, OAuthError
from pforte.services import audit, changes, refresh_tokens
from pforte.services.context import Context
from pforte.services.grants import user_tokens
from pforte.services.grants.grant import TokenRequest
from pforte.services.views import KeyView, TenantView
from pforte.store.repos.changes import RevokedTokenRepo
from pforte.store.repos.sessions import CodeRepo, RefreshTokenRepo, UsedCode
from pforte.store.tables import AuthorizationCodeRow, RevokedTokenRow

GRANT_TYPE = AUTHORIZATION_CODE
PARAMETERS = frozenset({"code", "redirect_uri", "code_verifier"})
INVALID = "the authorization code is invalid, expired, used, or was issued to another client"


class Storage(Protocol):
    """What this grant reads from the cache: the key that signs for the tenant now."""

    def signing_key(self, tenant: TenantView, now: datetime) -> KeyView | None: ...


async def handle(ctx: Context, request: TokenRequest) -> dict[str, Any]:
    code, redirect_uri = request.parameters.get("code"), request.parameters.get("redirect_uri")
    if code is None:
        raise InvalidRequest("code is required")
    if redirect_uri is None:
        raise InvalidRequest("redirect_uri is required")
    key = user_tokens.signing_key(ctx.cache, request)
    tenant_id, code_hash = request.tenant.id, ctx.hasher.hash(code)
    refused: OAuthError | None = None
    async with ctx.db.transaction() as session:
        codes = CodeRepo(session)
        used = await codes.use(tenant_id, code_hash, request.now)
        if used is None:  # no such code, or used already
            row = await codes.lock(tenant_id, code_hash)
            if row is None or row.used_at is None:
                raise InvalidGrant(INVALID)
            await _replayed(session, request, row)
            refused = InvalidGrant(INVALID)
        else:
            try:
                response = await _exchange(ctx, session, request, code_hash, used, key, redirect_uri)
            except OAuthError as exc:
                refused = exc
    if refused is not None:  # the code is used up (or the replay answered) either way
        raise refused
    return response


async def _exchange(
    ctx: Context,
    session: AsyncSession,
    request: TokenRequest,
    code_hash: str,
    code: UsedCode,
    key: KeyView,
    redirect_uri: str,
) -> dict[str, Any]:
    client, now = request.client, request.now
    if code.expires_at <= now or code.client_pk != client.pk or code.redirect_uri != redirect_uri:
        raise InvalidGrant(INVALID)
    pkce.check_verifier(request.parameters.get("code_verifier"), code.code_challenge)
    grantee = await user_tokens.grantee(ctx, session, request, key, code.user_id)
    if grantee is None:
        raise InvalidGrant(INVALID)
    family = None
    if refresh_tokens.offered(client):
        family = user_tokens.Family(id=new_id(), scopes=code.scopes, session_id=code.session_id)
    issued = await grantee.issue(
        scopes=code.scopes,
        auth_time=code.auth_time,
        sid=code.sid,
        family=family,
        id_token=True,
        nonce=code.nonce,
    )
    await CodeRepo(session).note_issued(
        request.tenant.id,
        code_hash,
        jti=issued.jti,
        jti_expires_at=datetime.fromtimestamp(issued.expires_at, UTC),
        family_id=None if family is None else family.id,
    )
    return issued.response


async def _replayed(session: AsyncSession, request: TokenRequest, row: AuthorizationCodeRow) -> None:
    """A second use: revoke the access token and the refresh tokens the first use issued
    (RFC 6749 §4.1.2: "SHOULD revoke ... all tokens previously issued based on that
    authorization code"), and record the replay."""
    tenant = request.tenant
    family_revoked = 0
    if row.issued_family_id is not None:
        family_revoked = await RefreshTokenRepo(session).revoke_family(
            tenant.id, row.issued_family_id, request.now
        )
    if (
        row.issued_jti is not None
        and row.issued_jti_expires_at is not None
        and row.issued_jti_expires_at > request.now
    ):
        revoked = RevokedTokenRow(
            tenant_id=tenant.id,
            jti=row.issued_jti,
            client_id=request.client.client_id,
            expires_at=row.issued_jti_expires_at,
            revoked_at=request.now,
        )
        if await RevokedTokenRepo(session).add(revoked):
            exp = int(row.issued_jti_expires_at.timestamp())
            changes.publish(session, changes.Change(changes.REVOKED, tenant.id, f"{row.issued_jti} {exp}"))
    actor = Actor(
        kind="client", id=request.client.client_id, tenant=tenant.slug, client_id=request.client.client_id
    )
    event = Event(
        EventName.AUTHORIZATION_CODE_REUSED,
        "user",
        str(row.user_id),
        {"clientId": request.client.client_id, "refreshTokensRevoked": family_revoked},
    )
    audit.record(session, tenant_id=tenant.id, actor=actor, event=event, publish=False)
