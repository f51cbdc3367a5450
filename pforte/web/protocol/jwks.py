"""``GET /t/{slug}/jwks`` — the tenant's JWK Set (RFC 7517 §5): public keys only.

A plain Starlette endpoint: protocol paths stay off FastAPI's per-request overhead.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pforte.domain.errors import NotFound
from pforte.domain.ids import is_slug
from pforte.services.keys import published_keys
from pforte.web.protocol.responses import PUBLIC_CACHE, json_response, no_such_tenant, tenant_request

MEDIA_TYPE = "application/jwk-set+json"


async def jwks(request: Request) -> Response:
    ctx, slug = tenant_request(request)
    if not is_slug(slug):  # no tenant has it: no look-up (PostgreSQL refuses NUL, SQLite not)
        return no_such_tenant()
    try:
        keys = await published_keys(ctx, slug)
    except NotFound:
        return no_such_tenant()
    return json_response({"keys": keys}, headers=PUBLIC_CACHE, media_type=MEDIA_TYPE)
