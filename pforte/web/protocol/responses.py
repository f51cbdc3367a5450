"""What every per-tenant protocol endpoint shares: the request's context and tenant slug, and
JSON responses, including the one answer for a tenant that does not exist."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pforte.domain.oauth.errors import OAuthError
from pforte.observability import set_tenant
from pforte.services.context import Context
from pforte.services.form_endpoints import error_reply
from pforte.web.protocol.form_dispatch import encoded

PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}


def tenant_request(request: Request) -> tuple[Context, str]:
    """The services context and the ``{slug}`` of the issuer path (also noted for the log)."""
    slug: str = request.path_params["slug"]
    set_tenant(slug)
    ctx: Context = request.app.state.ctx
    return ctx, slug


def json_response(
    body: object,
    status: int = 200,
    *,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=media_type)


def no_such_tenant(headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": "not_found", "error_description": "no such tenant"}, 404, headers=headers)


def protocol_error(exc: OAuthError) -> Response:
    """An RFC 6749-style error (``{"error", "error_description"}``, no-store) as a response."""
    headers, body = encoded(error_reply(exc))
    response = Response(body, status_code=exc.status)
    response.raw_headers = headers
    return response
