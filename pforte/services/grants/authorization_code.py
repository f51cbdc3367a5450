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
from pforte.domain.oauth import access_tokens, id_tokens, pkce
from pforte.domain.oauth.errors import InvalidGrant, InvalidRequest, OAuthError
from pforte.domain.oauth.user_scopes import userinfo_claims
from pforte.services import audit, changes, refresh_tokens
from pforte.services.context import Context
from pforte.services.grants.grant import NoSigningKey, TokenRequest
from pforte.services.views import KeyView, TenantView
from pforte.store.repos.changes import RevokedTokenRepo
from pforte.store.repos.sessions import CodeRepo
from pforte.store.repos.users import UserRepo
from pforte.store.tables import AuthorizationCodeRow, RevokedTokenRow, UserRow

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
    key = _signing_key(ctx.cache, request)
    refused: OAuthError | None = None
    async with ctx.db.transaction() as session:
        row = await CodeRepo(session).lock(request.tenant.id, ctx.hasher.hash(code))
        if row is None:
            raise InvalidGrant(INVALID)
        if row.used_at is not None:
            await _replayed(session, request, row)
            refused = InvalidGrant(INVALID)
        else:
            row.used_at = request.now
            try:
                response = await _exchange(ctx, session, request, row, key, redirect_uri)
            except OAuthError as exc:
                refused = exc
    if refused is not None:  # the code is used up (or the replay answered) either way
        raise refused
    return response


def _signing_key(storage: Storage, request: TokenRequest) -> KeyView:
    key = storage.signing_key(request.tenant, request.now)
    if key is None:
        raise NoSigningKey(request.tenant.slug)
    return key


async def _exchange(
    ctx: Context,
    session: AsyncSession,
    request: TokenRequest,
    row: AuthorizationCodeRow,
    key: KeyView,
    redirect_uri: str,
) -> dict[str, Any]:
    tenant, client, now = request.tenant, request.client, request.now
    if row.expires_at <= now or row.client_pk != client.pk or row.redirect_uri != redirect_uri:
        raise InvalidGrant(INVALID)
    pkce.check_verifier(request.parameters.get("code_verifier"), row.code_challenge)
    users = UserRepo(session)
    user = await users.get(tenant.id, row.user_id)
    if user is None or not user.enabled:
        raise InvalidGrant(INVALID)
    roles = [r.name for r in await users.roles_of(tenant.id, user.id)]
    client_roles = [r.name for r in await users.client_roles_of(tenant.id, user.id, client.pk)]
    issued_at = int(now.timestamp())
    auth_time = int(row.auth_time.timestamp())
    claims = access_tokens.user_claims(
        issuer=tenant.issuer,
        audience=tenant.audience,
        client_id=client.client_id,
        binding=client.binding,
        user_id=str(user.id),
        scopes=row.scopes,
        roles=roles,
        client_roles=client_roles,
        now=issued_at,
        lifetime=client.access_token_lifetime,
        auth_time=auth_time,
        sid=row.sid,
    )
    access_token = key.signer.sign(claims)
    row.issued_jti = claims["jti"]
    row.issued_jti_expires_at = datetime.fromtimestamp(claims["exp"], UTC)
    response: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": client.access_token_lifetime,
        "scope": " ".join(row.scopes),
    }
    if refresh_tokens.offered(client):
        row.issued_family_id = new_id()
        response["refresh_token"] = refresh_tokens.issue(
            session,
            ctx,
            tenant_id=tenant.id,
            client=client,
            user_id=user.id,
            session_id=row.session_id,
            scopes=row.scopes,
            sid=row.sid,
            auth_time=row.auth_time,
            family_id=row.issued_family_id,
            now=now,
        )
    if "openid" in row.scopes:
        response["id_token"] = key.id_signer.sign(
            _id_token(
                tenant,
                client.client_id,
                user,
                row,
                issued_at,
                client.access_token_lifetime,
                access_token,
                key,
            )
        )
    return response


def _id_token(
    tenant: TenantView,
    client_id: str,
    user: UserRow,
    row: AuthorizationCodeRow,
    now: int,
    lifetime: int,
    access_token: str,
    key: KeyView,
) -> dict[str, Any]:
    return id_tokens.id_token_claims(
        issuer=tenant.issuer,
        subject=str(user.id),
        audience=client_id,
        now=now,
        lifetime=lifetime,
        auth_time=int(row.auth_time.timestamp()),
        nonce=row.nonce,
        access_token=access_token,
        alg=key.alg,
        sid=row.sid,
        extra=userinfo_claims(user, row.scopes),
    )


async def _replayed(session: AsyncSession, request: TokenRequest, row: AuthorizationCodeRow) -> None:
    """A second use: revoke the access token the first use issued, and record the replay."""
    tenant = request.tenant
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
        EventName.AUTHORIZATION_CODE_REUSED, "user", str(row.user_id), {"clientId": request.client.client_id}
    )
    audit.record(session, tenant_id=tenant.id, actor=actor, event=event, publish=False)
