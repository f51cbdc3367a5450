"""``none`` (RFC 8414 §2, OIDC Core §9): a public client names itself by ``client_id`` in the
body and proves nothing — "the client MUST NOT use more than one authentication method"
(RFC 6749 §2.3), and a public client has none. What keeps its tokens safe is PKCE, which the
grants it may use require (``domain.oauth.pkce``). A confidential client presenting no secret,
or an unknown, disabled or public-looking id, gets the one answer ``invalid_client``.
"""

from __future__ import annotations

from datetime import datetime

from pforte.domain.ids import is_client_id
from pforte.domain.oauth.errors import InvalidClient
from pforte.services.client_authentication.method import AuthRequest, Credentials
from pforte.services.context import Context
from pforte.services.views import ClientView, TenantView

NAME = "none"
USES_AUTHORIZATION = False


def presented(request: AuthRequest) -> bool:
    return (
        request.authorization is None and "client_id" in request.form and "client_secret" not in request.form
    )


def credentials(request: AuthRequest) -> Credentials:
    return Credentials(client_id=request.form["client_id"], secret="", basic=False)


async def verify(ctx: Context, tenant: TenantView, credentials: Credentials, now: datetime) -> ClientView:
    client = (
        await ctx.cache.client(tenant, credentials.client_id) if is_client_id(credentials.client_id) else None
    )
    if client is None or not client.enabled or client.confidential:
        raise InvalidClient("client authentication is required")
    return client
