"""``GET /t/{slug}/jwks`` — the tenant's JWK Set (RFC 7517 §5): public keys only.

A plain Starlette endpoint: protocol paths stay off FastAPI's per-request overhead.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pforte.domain.errors import NotFound
from pforte.observability import set_tenant
from pforte.services.context import Context
from pforte.services.keys import published_keys

MEDIA_TYPE = "application/jwk-set+json"
CACHE = "public, max-age=60"


async def jwks(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    slug = request.path_params["slug"]
    set_tenant(slug)
    try:
        keys = await published_keys(ctx, slug)
    except NotFound:
        body = orjson.dumps({"error": "not_found", "error_description": "no such tenant"})
        return Response(body, status_code=404, media_type="application/json")
    return Response(orjson.dumps({"keys": keys}), media_type=MEDIA_TYPE, headers={"Cache-Control": CACHE})
