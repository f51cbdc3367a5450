"""The check both password methods share (RFC 6749 §2.3.1): a client secret in its window.

Reads only the in-process cache (``services.cache``): no database round trip once a client
is known. One answer — ``invalid_client`` — for an unknown client, a wrong secret, a secret
outside its window, a disabled client and a public client.
"""

from __future__ import annotations

from datetime import datetime

from pforte.domain.ids import is_client_id
from pforte.domain.oauth.errors import InvalidClient
from pforte.services.client_authentication.method import Credentials
from pforte.services.context import Context
from pforte.services.views import ClientView, TenantView


async def verify(ctx: Context, tenant: TenantView, credentials: Credentials, now: datetime) -> ClientView:
    presented = ctx.hasher.hash(credentials.secret)  # hashed whether or not the client exists
    # An id no client can have is unknown without a look-up (nor a cache entry).
    client = (
        await ctx.cache.client(tenant, credentials.client_id) if is_client_id(credentials.client_id) else None
    )
    secret = client.matching_secret(presented, now) if client is not None else None
    if client is None or secret is None or not client.enabled or not client.confidential:
        raise InvalidClient(basic=credentials.basic)
    ctx.usage.note(tenant.id, secret.id, now)
    return client
