"""Who is calling the admin API: an API key (``pfk_…``) or an access token from this server.

An access token (DESIGN.md §5) names its tenant by ``iss``; it is accepted only if it is live
for that tenant (``services.tokens``: typ, kid of that tenant, algorithm of the stored key,
signature, iss, aud, exp, jti not revoked, client present and enabled). It grants the
permissions among its ``scope`` that its client still holds — ``tenants:admin`` only from the
``system`` tenant. A user's token — the code flow's, or an impersonation token whose ``act``
names the client (RFC 8693) — is live only while its user is enabled (``services.tokens``), and
its scope never held more than the user's roles allowed when it was issued (DESIGN §6).
"""

from __future__ import annotations

import orjson
from joserfc import jws
from joserfc.errors import JoseError

from pforte.domain import credentials as cred
from pforte.domain import permissions
from pforte.domain.clock import utcnow
from pforte.domain.errors import Unauthorized
from pforte.domain.events import Actor
from pforte.domain.ids import SLUG_RE, SYSTEM_TENANT
from pforte.domain.oauth.scopes import parse_scope
from pforte.domain.principal import Principal
from pforte.services import tokens
from pforte.services.context import Context
from pforte.services.credentials import KeyUse, authenticate_api_key

INVALID = "the access token is not valid (expired, revoked, or not from this server)"


def _claimed_tenant(ctx: Context, value: str) -> str | None:
    """The tenant slug the token's (not yet verified) ``iss`` names, if it is one of ours."""
    try:
        payload = orjson.loads(jws.extract_compact(value.encode("ascii")).payload)
    except (JoseError, ValueError, UnicodeError, orjson.JSONDecodeError):
        return None
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    prefix = f"{ctx.settings.public_url}/t/"
    if not isinstance(issuer, str) or not issuer.startswith(prefix):
        return None
    slug = issuer[len(prefix) :]
    return slug if SLUG_RE.fullmatch(slug) else None


async def authenticate_access_token(ctx: Context, value: str) -> Principal:
    slug = _claimed_tenant(ctx, value)
    tenant = await ctx.cache.tenant(slug) if slug else None
    live = await tokens.live_token(ctx, tenant, value, utcnow()) if tenant else None
    if live is None:
        raise Unauthorized(INVALID)
    held = frozenset(
        s
        for s in parse_scope(live.claims.get("scope") or "")
        if permissions.is_permission(s) and s in live.client.scopes
    )
    if live.tenant.slug != SYSTEM_TENANT:
        held -= {permissions.TENANTS_ADMIN}
    client_id = live.client.client_id
    # A user's token (``roles``: the code flow's, or an impersonation token, RFC 8693) acts as the
    # user through its client, as the admin console does; its audit events name both.
    kind, actor_id = ("user", str(live.claims["sub"])) if "roles" in live.claims else ("client", client_id)
    actor = Actor(kind=kind, id=actor_id, tenant=live.tenant.slug, client_id=client_id)
    return Principal(tenant_slug=live.tenant.slug, client_id=client_id, permissions=held, actor=actor)


async def authenticate_bearer(ctx: Context, value: str) -> tuple[Principal, KeyUse | None]:
    """The principal of a Bearer credential, and an API key use to record if one is due."""
    if value.startswith(cred.Kind.API_KEY.value):
        return await authenticate_api_key(ctx, value)
    return await authenticate_access_token(ctx, value), None
