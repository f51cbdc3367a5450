"""Discovery documents: ``/t/{slug}/.well-known/openid-configuration`` and RFC 8414's
``/.well-known/oauth-authorization-server/t/{slug}`` (the same metadata, ``services.discovery``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pforte.domain.oauth.errors import NotFound
from pforte.services.discovery import document
from pforte.web.protocol.responses import PUBLIC_CACHE, json_response, no_such_tenant, tenant_request


async def discovery(request: Request) -> Response:
    ctx, slug = tenant_request(request)
    try:
        metadata = await document(ctx, slug)
    except NotFound:
        return no_such_tenant()
    return json_response(metadata, headers=PUBLIC_CACHE)
