"""Is this a live access token of this tenant? — for introspection, revocation and the admin API.

A token is live when: it is a compact JWS whose header ``typ`` is ``at+jwt`` (RFC 9068 §4) and
whose ``kid`` names a published key of *this* tenant; its signature verifies through joserfc
with the algorithm of that stored key (never the header's; ``jku``/``jwk``/``x5u``/``x5c`` are
never looked at); ``iss`` is this tenant's issuer and ``aud`` the platform's APIs; ``exp`` lies
ahead; its ``jti`` is not revoked; its client still exists — the very record that it was issued
to (``jti`` carries the record's tag) — and is enabled.

The signature check is the costly part, so a token that passed it is remembered (bounded LRU,
dropped with its tenant's cache); everything else is checked again on every call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from pforte.domain.oauth import access_tokens
from pforte.services.context import Context
from pforte.services.views import ClientView, TenantView, VerifiedToken

MAX_TOKEN_LENGTH = 8 * 1024
TYP = frozenset({"at+jwt", "application/at+jwt"})


@dataclass(frozen=True, slots=True)
class LiveToken:
    tenant: TenantView
    client: ClientView
    claims: dict[str, Any]


def _claims_ok(claims: dict[str, Any], tenant: TenantView) -> bool:
    try:
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": tenant.issuer},
            aud={"essential": True, "value": tenant.audience},
            exp={"essential": True},
            jti={"essential": True},
            iat={"essential": True},
            client_id={"essential": True},
            sub={"essential": True},
        ).validate(claims)
    except JoseError:
        return False
    scope = claims.get("scope")
    return (
        isinstance(claims["exp"], int)
        and isinstance(claims["iat"], int)
        and isinstance(claims["jti"], str)
        and isinstance(claims["client_id"], str)
        and (scope is None or isinstance(scope, str))
    )


def _verify(tenant: TenantView, token: str, now: datetime) -> VerifiedToken | None:
    try:
        header = jws.extract_compact(token.encode("ascii")).protected
    except (JoseError, ValueError, UnicodeError):
        return None
    typ, kid = header.get("typ"), header.get("kid")
    if not isinstance(typ, str) or typ.lower() not in TYP or not isinstance(kid, str):
        return None
    key = tenant.verification_key(kid, now)
    if key is None:
        return None
    try:
        decoded = jwt.decode(token, key.public, algorithms=[key.alg])
    except (JoseError, ValueError):
        return None
    if decoded.header.get("alg") != key.alg or not _claims_ok(decoded.claims, tenant):
        return None
    return VerifiedToken(tenant_id=tenant.id, kid=kid, claims=decoded.claims)


async def live_token(ctx: Context, tenant: TenantView, token: str, now: datetime) -> LiveToken | None:
    """The token's claims, tenant and client if it is live for ``tenant``; else None."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    verified = ctx.cache.token(token)
    if verified is None or verified.tenant_id != tenant.id:
        generation = ctx.cache.generation
        verified = _verify(tenant, token, now)
        if verified is None:
            return None
        ctx.cache.remember_token(token, verified, generation)
    elif tenant.verification_key(verified.kid, now) is None:  # its key has been retired since
        return None
    claims = verified.claims
    if claims["exp"] <= now.timestamp() or await ctx.cache.is_revoked(claims["jti"]):
        return None
    client = await ctx.cache.client(tenant, claims["client_id"])
    if client is None or not client.enabled or not access_tokens.is_bound_to(claims["jti"], client.binding):
        return None
    if "roles" in claims and not await _user_active(ctx, tenant, claims.get("sub")):
        return None  # a user's token ends with the user (disabled or deleted), on every process
    return LiveToken(tenant=tenant, client=client, claims=claims)


async def _user_active(ctx: Context, tenant: TenantView, subject: object) -> bool:
    try:
        user_id = uuid.UUID(str(subject))
    except ValueError:
        return False
    return await ctx.cache.user_active(tenant, user_id)
