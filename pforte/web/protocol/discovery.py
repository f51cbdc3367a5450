"""Discovery documents: ``/t/{slug}/.well-known/openid-configuration`` and RFC 8414's
``/.well-known/oauth-authorization-server/t/{slug}`` (the same metadata)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pforte.domain.errors import NotFound
from pforte.domain.oauth.discovery import metadata
from pforte.observability import set_tenant
from pforte.services.context import Context
from pforte.services.tenants import by_slug

CACHE = "public, max-age=60"


async def discovery(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    slug = request.path_params["slug"]
    set_tenant(slug)
    try:
        tenant = await by_slug(ctx, slug)
    except NotFound:
        body = orjson.dumps({"error": "not_found", "error_description": "no such tenant"})
        return Response(body, status_code=404, media_type="application/json")
    document = metadata(
        issuer=ctx.settings.issuer(tenant.slug), tenant_slug=tenant.slug, signing_alg=tenant.signing_alg
    )
    return Response(orjson.dumps(document), media_type="application/json", headers={"Cache-Control": CACHE})
