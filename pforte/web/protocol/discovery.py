"""Discovery documents: ``/t/{slug}/.well-known/openid-configuration`` and RFC 8414's
``/.well-known/oauth-authorization-server/t/{slug}`` (the same metadata)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pforte.domain.errors import NotFound
from pforte.domain.ids import is_slug
from pforte.domain.oauth.discovery import metadata
from pforte.services.tenants import by_slug
from pforte.web.protocol.responses import PUBLIC_CACHE, json_response, no_such_tenant, tenant_request


async def discovery(request: Request) -> Response:
    ctx, slug = tenant_request(request)
    if not is_slug(slug):  # no tenant has it: no look-up (PostgreSQL refuses NUL, SQLite not)
        return no_such_tenant()
    try:
        tenant = await by_slug(ctx, slug)
    except NotFound:
        return no_such_tenant()
    document = metadata(issuer=ctx.settings.issuer(slug), tenant_slug=slug, signing_alg=tenant.signing_alg)
    return json_response(document, headers=PUBLIC_CACHE)
