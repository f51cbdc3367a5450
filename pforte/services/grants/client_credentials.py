"""RFC 6749 §4.4 client credentials grant, issuing RFC 9068 JWT access tokens."""

from __future__ import annotations

import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from pforte.domain.clients import CLIENT_CREDENTIALS
from pforte.domain.errors import NotFound
from pforte.domain.oauth import access_tokens
from pforte.domain.oauth.client_auth import ClientCredentials
from pforte.domain.oauth.errors import InvalidClient, InvalidScope, UnauthorizedClient
from pforte.domain.oauth.scopes import is_scope_token, parse_scope
from pforte.services.context import Context
from pforte.services.keys import seal_context
from pforte.store.base import utcnow
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.credentials import SecretRepo
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo
from pforte.store.tables import SigningKeyRow, TenantRow

GRANT_TYPE = CLIENT_CREDENTIALS
PARAMETERS = frozenset({"grant_type", "scope"})


def _signing_key(ctx: Context, tenant: TenantRow, row: SigningKeyRow) -> Any:
    cached = ctx.signing_keys.get((tenant.id, row.kid))
    if cached is None:
        der = ctx.sealer.open(row.private_key_sealed, context=seal_context(tenant, row.kid))
        cached = (ECKey if row.alg == "ES256" else RSAKey).import_key(der)
        ctx.signing_keys[(tenant.id, row.kid)] = cached
    return cached


def _granted_scopes(requested: str | None, allowed: list[str]) -> list[str]:
    """None asked: everything the client may have. Otherwise each asked scope must be allowed."""
    if requested is None:
        return list(allowed)
    asked = list(dict.fromkeys(parse_scope(requested)))
    for scope in asked:
        if not is_scope_token(scope) or scope not in allowed:
            raise InvalidScope("a requested scope is not allowed for this client")
    return asked


async def handle(
    ctx: Context, *, tenant_slug: str, credentials: ClientCredentials, scope: str | None
) -> dict[str, Any]:
    now = utcnow()
    presented = ctx.hasher.hash(credentials.secret)  # hashed whether or not the client exists
    async with ctx.db.transaction() as session:
        tenant = await TenantRepo(session).get_by_slug(tenant_slug)
        if tenant is None:
            raise NotFound(f"tenant {tenant_slug!r} does not exist")
        client = await ClientRepo(session).get(tenant.id, credentials.client_id)
        valid = await SecretRepo(session).valid_at(tenant.id, client.id, now) if client else []
        keys = await SigningKeyRepo(session).list(tenant.id)
    matched = False
    for secret in valid:  # compare against every valid secret, in constant time each
        matched |= ctx.hasher.verify_hash(presented, secret.value_hash)
    # One answer for unknown client, wrong or expired secret, disabled or public client.
    if client is None or not matched or not client.enabled or not client.require_client_secret:
        raise InvalidClient(basic=credentials.basic)
    if GRANT_TYPE not in client.allowed_grant_types:
        raise UnauthorizedClient("this client may not use the client_credentials grant")
    scopes = _granted_scopes(scope, client.allowed_scopes)
    key_row = max(keys, key=lambda k: k.active_from)
    issued = int(time.time())
    claims = access_tokens.client_credentials_claims(
        issuer=ctx.settings.issuer(tenant.slug),
        audience=f"{ctx.settings.public_url}/api",
        client_id=client.client_id,
        scopes=scopes,
        now=issued,
        lifetime=client.access_token_lifetime,
    )
    header = {"alg": key_row.alg, "kid": key_row.kid, "typ": access_tokens.AT_JWT}
    token = jwt.encode(header, claims, _signing_key(ctx, tenant, key_row))
    response: dict[str, Any] = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": client.access_token_lifetime,
    }
    if scopes:
        response["scope"] = " ".join(scopes)
    return response
