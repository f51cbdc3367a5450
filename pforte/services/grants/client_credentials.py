"""RFC 6749 §4.4 client credentials grant, issuing RFC 9068 JWT access tokens.

"The client can request an access token using only its client credentials" (§4.4): the client
is already authenticated and allowed the grant (``services.token_endpoint``). This checks what
it may ask for — ``scope`` (§3.3) and RFC 8707 ``resource`` — and signs the token with the
tenant's current key, all from the in-process cache.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pforte.domain.clients import CLIENT_CREDENTIALS
from pforte.domain.oauth import access_tokens, resource_indicators
from pforte.domain.oauth.errors import InvalidScope
from pforte.domain.oauth.scopes import is_scope_token, parse_scope
from pforte.services.context import Context
from pforte.services.grants.grant import NoSigningKey, TokenRequest
from pforte.services.views import KeyView, TenantView

GRANT_TYPE = CLIENT_CREDENTIALS
PARAMETERS = frozenset({"scope", resource_indicators.PARAMETER})


class Storage(Protocol):
    """What this grant reads: the key that signs for the tenant now."""

    def signing_key(self, tenant: TenantView, now: datetime) -> KeyView | None: ...


async def handle(ctx: Context, request: TokenRequest) -> dict[str, Any]:
    return issue(ctx.cache, request)


def _granted_scopes(requested: str | None, allowed: tuple[str, ...]) -> list[str]:
    """None asked: everything the client may have. Otherwise each asked scope must be allowed."""
    if requested is None:
        return list(allowed)
    asked = list(dict.fromkeys(parse_scope(requested)))
    for scope in asked:
        if not is_scope_token(scope) or scope not in allowed:
            raise InvalidScope("a requested scope is not allowed for this client")
    return asked


def issue(storage: Storage, request: TokenRequest) -> dict[str, Any]:
    tenant, client, parameters = request.tenant, request.client, request.parameters
    # RFC 8707: the platform API's audience is the one registered resource, and the default.
    audience = resource_indicators.audience(
        parameters.get(resource_indicators.PARAMETER), registered=(tenant.audience,), default=tenant.audience
    )
    scopes = _granted_scopes(parameters.get("scope"), client.scopes)
    key = storage.signing_key(tenant, request.now)
    if key is None:
        raise NoSigningKey(tenant.slug)
    claims = access_tokens.client_credentials_claims(
        issuer=tenant.issuer,
        audience=audience,
        client_id=client.client_id,
        binding=client.binding,
        scopes=scopes,
        now=int(request.now.timestamp()),
        lifetime=client.access_token_lifetime,
    )
    request.jti = claims["jti"]
    response: dict[str, Any] = {
        "access_token": key.signer.sign(claims),
        "token_type": "Bearer",
        "expires_in": client.access_token_lifetime,
    }
    if scopes:
        response["scope"] = " ".join(scopes)
    return response
