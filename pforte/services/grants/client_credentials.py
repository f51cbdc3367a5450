"""RFC 6749 §4.4 client credentials grant, issuing RFC 9068 JWT access tokens.

The client is already authenticated (``services.client_authn``); this checks what it may ask
for (RFC 8707 ``resource`` included) and signs the token with the tenant's current key — all
from the in-process cache.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pforte.domain.clients import CLIENT_CREDENTIALS
from pforte.domain.oauth import access_tokens, resource_indicators
from pforte.domain.oauth.errors import InvalidScope, UnauthorizedClient
from pforte.domain.oauth.scopes import is_scope_token, parse_scope
from pforte.services.cache import ClientView, TenantView

GRANT_TYPE = CLIENT_CREDENTIALS
PARAMETERS = frozenset({"grant_type", "scope", resource_indicators.PARAMETER})


class NoSigningKey(Exception):
    """The tenant has no key that may sign now (every key retired or not yet active)."""


def _granted_scopes(requested: str | None, allowed: tuple[str, ...]) -> list[str]:
    """None asked: everything the client may have. Otherwise each asked scope must be allowed."""
    if requested is None:
        return list(allowed)
    asked = list(dict.fromkeys(parse_scope(requested)))
    for scope in asked:
        if not is_scope_token(scope) or scope not in allowed:
            raise InvalidScope("a requested scope is not allowed for this client")
    return asked


def handle(tenant: TenantView, client: ClientView, form: dict[str, str], now: datetime) -> dict[str, Any]:
    if GRANT_TYPE not in client.grant_types:
        raise UnauthorizedClient("this client may not use the client_credentials grant")
    # RFC 8707: the platform API's audience is the one registered resource, and the default.
    audience = resource_indicators.audience(
        form.get(resource_indicators.PARAMETER), registered=(tenant.audience,), default=tenant.audience
    )
    scopes = _granted_scopes(form.get("scope"), client.scopes)
    key = tenant.signing_key(now)
    if key is None:
        raise NoSigningKey(tenant.slug)
    claims = access_tokens.client_credentials_claims(
        issuer=tenant.issuer,
        audience=audience,
        client_id=client.client_id,
        binding=client.binding,
        scopes=scopes,
        now=int(now.timestamp()),
        lifetime=client.access_token_lifetime,
    )
    response: dict[str, Any] = {
        "access_token": key.signer.sign(claims),
        "token_type": "Bearer",
        "expires_in": client.access_token_lifetime,
    }
    if scopes:
        response["scope"] = " ".join(scopes)
    return response
