"""RFC 7662 token introspection: what a resource server may learn about a token.

Anything not live for this tenant — expired, revoked, malformed, another tenant's, its client
disabled or deleted, an unknown or expired API key — is ``{"active": false}`` and nothing else
(§2.2), so the answer tells an unauthorised holder nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pforte.domain import credentials as cred
from pforte.domain.oauth.errors import InvalidClient
from pforte.services import refresh_tokens, tokens
from pforte.services.context import Context
from pforte.services.credentials import held_permissions
from pforte.services.form_endpoints import FormRequest, form_endpoint, token_call
from pforte.services.views import TenantView
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.credentials import ApiKeyRepo
from pforte.store.repos.sessions import RefreshTokenRepo
from pforte.store.repos.users import UserRepo

INACTIVE: dict[str, Any] = {"active": False}
# ``act``: the client acting as the user in an impersonation token (RFC 8693 §4.1, "act").
CLAIMS = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti", "act")


@form_endpoint
async def endpoint(ctx: Context, request: FormRequest) -> dict[str, Any]:
    """``POST /t/{slug}/introspect``: an authenticated client of the tenant asks (§2.1)."""
    call = await token_call(ctx, request)
    if not call.client.confidential:
        # Introspection is for resource servers, which hold credentials; a public client proves
        # nothing about itself (RFC 7662 §2.1: the endpoint "MUST also require some form of
        # authorization").
        raise InvalidClient("client authentication is required")
    return await introspect(ctx, call.tenant, call.token, call.now)


async def introspect(ctx: Context, tenant: TenantView, token: str, now: datetime) -> dict[str, Any]:
    if cred.is_well_formed(token, cred.Kind.API_KEY):
        return await _api_key(ctx, tenant, token, now)
    if cred.is_well_formed(token, cred.Kind.REFRESH_TOKEN):
        return await _refresh_token(ctx, tenant, token, now)
    live = await tokens.live_token(ctx, tenant, token, now)
    if live is None:
        return INACTIVE
    members: dict[str, Any] = {"active": True, "token_type": "Bearer"}
    for name in CLAIMS:
        if name in live.claims:
            members[name] = live.claims[name]
    return members


async def _api_key(ctx: Context, tenant: TenantView, value: str, now: datetime) -> dict[str, Any]:
    async with ctx.db.transaction() as session:
        found = await ApiKeyRepo(session).authenticate(ctx.hasher.hash(value))
    if found is None:
        return INACTIVE
    key, client, _tenant = found
    if key.tenant_id != tenant.id or not client.enabled:
        return INACTIVE
    if key.expiration is not None and key.expiration <= now:
        return INACTIVE
    held = sorted(held_permissions(key, client, tenant.slug))
    members: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "client_id": client.client_id,
        "sub": client.client_id,
        "iss": tenant.issuer,
        "iat": int(key.created_at.timestamp()),
        "jti": str(key.id),
    }
    if held:
        members["scope"] = " ".join(held)
    if key.expiration is not None:
        members["exp"] = int(key.expiration.timestamp())
    return members


async def _refresh_token(ctx: Context, tenant: TenantView, value: str, now: datetime) -> dict[str, Any]:
    """A refresh token is active while it is neither rotated, revoked nor expired, and its user
    and client are still there and enabled."""
    async with ctx.db.transaction() as session:
        row = await RefreshTokenRepo(session).get(tenant.id, ctx.hasher.hash(value))
        user = await UserRepo(session).get(tenant.id, row.user_id) if row is not None else None
        client = await ClientRepo(session).by_pk(tenant.id, row.client_pk) if row is not None else None
    if row is None or user is None or client is None or not user.enabled or not client.enabled:
        return INACTIVE
    if not refresh_tokens.is_live(row, now):
        return INACTIVE
    return {
        "active": True,
        "token_type": "refresh_token",
        "client_id": client.client_id,
        "sub": str(user.id),
        "username": user.username,
        "scope": " ".join(row.scopes),
        "iss": tenant.issuer,
        "iat": int(row.created_at.timestamp()),
        "exp": int(row.expires_at.timestamp()),
    }
