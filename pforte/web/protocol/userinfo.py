"""``GET|POST /t/{slug}/userinfo`` (OIDC Core §5.3) as HTTP: the token in, JSON claims out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pforte.domain.oauth.errors import OAuthError
from pforte.domain.oauth.forms import parse_form
from pforte.services import userinfo as service
from pforte.web.protocol.responses import json_response, protocol_error, tenant_request
from pforte.web.request_body import BodyTimeout, BodyTooLarge, read_body

MAX_FORM = 8 * 1024


async def userinfo(request: Request) -> Response:
    ctx, slug = tenant_request(request)
    try:
        form_token = None
        if request.method == "POST" and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            try:
                body = await read_body(
                    request.receive, limit=MAX_FORM, declared=None, seconds=ctx.settings.body_timeout
                )
            except (BodyTooLarge, BodyTimeout):
                body = None
            form_token = parse_form("application/x-www-form-urlencoded", body or b"").get("access_token")
        token = service.bearer(request.headers.get("authorization"), form_token)
        claims = await service.userinfo(ctx, slug, token)
    except OAuthError as exc:
        return protocol_error(exc)
    return json_response(claims, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
