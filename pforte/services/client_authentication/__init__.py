"""RFC 6749 §2.3 client authentication at the protocol endpoints (token, introspection,
revocation), one module per method behind one interface (``method.AuthMethod``):

    client_secret_basic   §2.3.1, the ``Authorization: Basic`` header
    client_secret_post    §2.3.1, ``client_id`` + ``client_secret`` in the body
    none                  a public client: ``client_id`` alone (PKCE protects its code)

"The client MUST NOT use more than one authentication method in each request." (§2.3) A
request presenting two is ``invalid_request``; one presenting none is ``invalid_client``; an
``Authorization`` header no method takes is ``invalid_client`` with ``WWW-Authenticate: Basic``.

Failures are throttled per client id (``services.throttle``): while a client id is blocked,
every attempt is 429 whatever the credentials; a failure is counted, maybe slowed down, maybe
answered 429, and recorded (``client.authentication_failed``, in the next batch of events).
Adding a method (``private_key_jwt``) is one module here and one line in ``METHODS``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from pforte.domain.oauth.errors import InvalidClient, InvalidRequest, TooManyAttempts
from pforte.services.client_authentication import client_secret_basic, client_secret_post, none
from pforte.services.client_authentication.method import AuthMethod, AuthRequest, Credentials
from pforte.services.context import Context
from pforte.services.cors import note_client_origins
from pforte.services.views import ClientView, TenantView

METHODS: tuple[AuthMethod, ...] = (client_secret_basic, client_secret_post, none)
NAMES = tuple(method.NAME for method in METHODS)  # token_endpoint_auth_methods_supported

__all__ = ["METHODS", "NAMES", "AuthRequest", "authenticate", "credentials"]


def credentials(request: AuthRequest) -> tuple[AuthMethod, Credentials]:
    """The one method the request uses, and the credentials it presents."""
    found: AuthMethod | None = None
    header_taken = False
    for method in METHODS:
        if method.presented(request):
            if found is not None:
                # "The client MUST NOT use more than one authentication method in each request." (§2.3)
                raise InvalidRequest("use one client authentication method, not two")
            found, header_taken = method, header_taken or method.USES_AUTHORIZATION
    if request.authorization is not None and not header_taken:
        raise InvalidClient("unsupported authentication scheme", basic=True)
    if found is None:
        raise InvalidClient("client authentication is required")
    return found, found.credentials(request)


async def authenticate(ctx: Context, tenant: TenantView, request: AuthRequest, now: datetime) -> ClientView:
    """The authenticated client, or ``invalid_client`` (throttled) / ``invalid_request``."""
    method, presented = credentials(request)
    blocked = ctx.throttle.blocked(tenant.slug, presented.client_id)
    if blocked is not None:
        raise TooManyAttempts(blocked)
    try:
        client = await method.verify(ctx, tenant, presented, now)
    except InvalidClient:
        ctx.events.authentication_failed(tenant.id, tenant.slug, now, presented.client_id)
        verdict = await ctx.throttle.failed(tenant.slug, presented.client_id)
        if verdict.retry_after is not None:
            raise TooManyAttempts(verdict.retry_after) from None
        if verdict.delay:
            await asyncio.sleep(verdict.delay)
        raise
    if client.cors_origins:
        note_client_origins(client.cors_origins)
    return client
