"""OIDC Core §5.3 UserInfo: the claims about the signed-in user that the token's scopes allow.

"The Access Token obtained from an OpenID Connect Authentication Request MUST be sent as a
Bearer Token, per Section 2 of OAuth 2.0 Bearer Token Usage [RFC6750]" (§5.3.1): in the
``Authorization`` header, or as ``access_token`` in a form body (RFC 6750 §2.2). The token must
be live (``services.tokens``), name a user who still exists and is enabled, and carry
``openid``; errors are RFC 6750 §3.1's.
"""

from __future__ import annotations

import uuid
from typing import Any

from pforte.domain.oauth.errors import InsufficientScope, InvalidRequest, InvalidToken
from pforte.domain.oauth.scopes import parse_scope
from pforte.domain.oauth.user_scopes import userinfo_claims
from pforte.services import tokens
from pforte.services.context import Context
from pforte.services.form_endpoints import find_tenant
from pforte.store.repos.users import UserRepo


def bearer(authorization: str | None, form_token: str | None) -> str:
    """The one access token of the request (RFC 6750 §2: "Clients MUST NOT use more than one
    method to transmit the token in each request")."""
    header = None
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise InvalidToken("use the Bearer scheme", given=False)
        header = value.strip()
    if header is not None and form_token is not None:
        raise InvalidRequest("send the access token once")
    token = header or form_token
    if not token:
        raise InvalidToken("an access token is required", given=False)
    return token


async def userinfo(ctx: Context, slug: str, token: str) -> dict[str, Any]:
    tenant = await find_tenant(ctx, slug)
    now = ctx.clock()
    live = await tokens.live_token(ctx, tenant, token, now)
    if live is None:
        raise InvalidToken()
    try:
        user_id = uuid.UUID(str(live.claims.get("sub")))
    except ValueError:
        raise InvalidToken("the access token names no user") from None
    scopes = parse_scope(str(live.claims.get("scope") or ""))
    if "openid" not in scopes:
        raise InsufficientScope("openid")
    async with ctx.db.transaction() as session:
        user = await UserRepo(session).get(tenant.id, user_id)
    if user is None or not user.enabled:
        raise InvalidToken("the user no longer exists or is disabled")
    return userinfo_claims(user, scopes)
