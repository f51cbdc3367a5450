"""The tokens a client gets when it acts for a user, shared by the grants that issue them
(``authorization_code``, ``refresh_token``, ``password``, ``token_exchange``): an RFC 9068 access
token naming the user's roles, and — when the grant calls for them — a refresh token (RFC 6749
§6, rotated by ``services.refresh_tokens``) and an OIDC Core §2 ID token.

Each grant decides what is granted (the scopes, the refresh token's family, whether an ID token
is due); this module reads who the user is now — enabled, their tenant roles, the requesting
client's roles they hold — and signs the tokens, in the grant's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain import roles as role_rules
from pforte.domain.oauth import access_tokens, id_tokens
from pforte.domain.oauth.user_scopes import userinfo_claims
from pforte.services import refresh_tokens
from pforte.services.context import Context
from pforte.services.grants.grant import NoSigningKey, TokenRequest
from pforte.services.users import parse_user_ref
from pforte.services.views import KeyView, TenantView
from pforte.store.repos.users import GrantedUser, UserRepo


class Storage(Protocol):
    """What the user grants read from the cache: the key that signs for the tenant now."""

    def signing_key(self, tenant: TenantView, now: datetime) -> KeyView | None: ...


def signing_key(storage: Storage, request: TokenRequest) -> KeyView:
    """The key that signs for the request's tenant now; ``NoSigningKey`` when none may."""
    key = storage.signing_key(request.tenant, request.now)
    if key is None:
        raise NoSigningKey(request.tenant.slug)
    return key


@dataclass(frozen=True, slots=True)
class Family:
    """The refresh token to issue with the access token: the family it belongs to, what it
    grants (which may be more than this access token carries) and the sign-in session."""

    id: uuid.UUID
    scopes: list[str]
    session_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Issued:
    response: dict[str, Any]  # the token response (RFC 6749 §5.1)
    jti: str  # the access token's
    expires_at: int  # the access token's ``exp``


@dataclass(frozen=True, slots=True)
class Grantee:
    """The user a token request acts for, as they are now, with what signs and stores their
    tokens: the request's key and transaction."""

    ctx: Context
    session: AsyncSession
    request: TokenRequest
    key: KeyView
    user: GrantedUser
    roles: list[str]  # tenant roles, by name
    permissions: frozenset[str]  # what those roles allow: the user scopes they may hold follow
    client_roles: list[str]  # the requesting client's roles the user holds, by name

    def access_token(
        self,
        *,
        scopes: Sequence[str],
        auth_time: int | None,
        sid: str | None,
        lifetime: int,
        audience: str | None = None,
        act: dict[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """The signed RFC 9068 access token for the user and its claims: ``audience`` defaults to
        the platform's APIs; ``act`` names an impersonating client (RFC 8693 §4.1)."""
        tenant, client = self.request.tenant, self.request.client
        claims = access_tokens.user_claims(
            issuer=tenant.issuer,
            audience=audience or tenant.audience,
            client_id=client.client_id,
            binding=client.binding,
            user_id=str(self.user.id),
            scopes=scopes,
            roles=self.roles,
            client_roles=self.client_roles,
            now=int(self.request.now.timestamp()),
            lifetime=lifetime,
            auth_time=auth_time,
            sid=sid,
            act=act,
        )
        # what the token.issued event names (``token_endpoint.dispatch``)
        self.request.jti, self.request.user_id = claims["jti"], claims["sub"]
        return self.key.signer.sign(claims), claims

    async def issue(
        self,
        *,
        scopes: list[str],
        auth_time: datetime,
        sid: str | None,
        family: Family | None,
        id_token: bool,
        nonce: str | None = None,
    ) -> Issued:
        """The access token with ``scopes``; a refresh token of ``family`` (added to the
        transaction) unless it is None; an ID token if ``id_token`` and ``openid`` is granted."""
        tenant, client, now, key, user = (
            self.request.tenant,
            self.request.client,
            self.request.now,
            self.key,
            self.user,
        )
        issued_at = int(now.timestamp())
        authenticated_at = int(auth_time.timestamp())
        lifetime = client.access_token_lifetime
        access_token, claims = self.access_token(
            scopes=scopes, auth_time=authenticated_at, sid=sid, lifetime=lifetime
        )
        response = token_response(access_token, lifetime, scopes)
        if family is not None:
            response["refresh_token"] = await refresh_tokens.issue(
                self.session,
                self.ctx,
                tenant_id=tenant.id,
                client=client,
                user_id=user.id,
                session_id=family.session_id,
                scopes=family.scopes,
                sid=sid,
                auth_time=auth_time,
                family_id=family.id,
                now=now,
            )
        if id_token and "openid" in scopes:
            response["id_token"] = key.id_signer.sign(
                id_tokens.id_token_claims(
                    issuer=tenant.issuer,
                    subject=str(user.id),
                    audience=client.client_id,
                    now=issued_at,
                    lifetime=lifetime,
                    auth_time=authenticated_at,
                    nonce=nonce,
                    access_token=access_token,
                    alg=key.alg,
                    sid=sid,
                    extra=userinfo_claims(user, scopes),
                )
            )
        return Issued(response=response, jti=claims["jti"], expires_at=claims["exp"])


def token_response(access_token: str, lifetime: int, scopes: Sequence[str]) -> dict[str, Any]:
    """The members of a user's token response (RFC 6749 §5.1) that every user grant sends."""
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": " ".join(scopes),
    }


async def grantee(
    ctx: Context, session: AsyncSession, request: TokenRequest, key: KeyView, user_id: uuid.UUID
) -> Grantee | None:
    """The enabled user ``user_id`` of the request's tenant with their roles, read in
    ``session`` (one statement); None when the user is gone or disabled (a disabled user gets
    nothing)."""
    tenant = request.tenant
    held = await UserRepo(session).with_roles(tenant.id, user_id, request.client.pk)
    if held is None or not held.user.enabled:
        return None
    return Grantee(
        ctx=ctx,
        session=session,
        request=request,
        key=key,
        user=held.user,
        roles=[r.name for r in held.roles],
        permissions=frozenset(
            p
            for r in held.roles
            for p in (role_rules.admin_permissions(tenant.slug) if r.builtin else r.permissions)
        ),
        client_roles=held.client_roles,
    )


async def grantee_named(
    ctx: Context, session: AsyncSession, request: TokenRequest, key: KeyView, ref: str
) -> Grantee | None:
    """``grantee`` for the user ``ref`` names — by id, or by username in any case, as the User
    API finds users (``services.users.find_user``); None when there is no such enabled user."""
    user_id = parse_user_ref(ref)
    if user_id is None:
        row = await UserRepo(session).by_username(request.tenant.id, ref)
        if row is None:
            return None
        user_id = row.id
    return await grantee(ctx, session, request, key, user_id)
