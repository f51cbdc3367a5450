"""``POST /t/{slug}/token`` — RFC 6749 §3.2, as named steps: no-store, parse the form, reject
repeated parameters, authenticate the client, dispatch on ``grant_type``.

A plain Starlette endpoint: the token path stays off FastAPI's per-request overhead.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response

from pforte.domain.errors import NotFound
from pforte.domain.oauth import client_auth
from pforte.domain.oauth.errors import InvalidClient, InvalidRequest, OAuthError, UnsupportedGrantType
from pforte.observability import set_tenant
from pforte.services.context import Context
from pforte.services.grants import client_credentials

MAX_BODY = 8 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
GRANTS = {client_credentials.GRANT_TYPE: client_credentials}


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, {**NO_STORE, **(headers or {})}, "application/json")


def error_response(exc: OAuthError) -> Response:
    headers = {}
    if isinstance(exc, InvalidClient) and exc.basic:
        headers["WWW-Authenticate"] = 'Basic realm="pforte", charset="UTF-8"'
    return _json({"error": exc.error, "error_description": exc.description}, exc.status, headers)


async def _form(request: Request) -> dict[str, str]:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise InvalidRequest("the body must be application/x-www-form-urlencoded")
    body = await request.body()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=32)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the body is not a valid form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        # "Request and response parameters MUST NOT be included more than once." (§3.1)
        if name in form:
            raise InvalidRequest(f"the parameter {name} is repeated")
        if value:  # "sent without a value MUST be treated as if they were omitted"
            form[name] = value
    return form


async def token(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    slug = request.path_params["slug"]
    set_tenant(slug)
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return _json({"error": "invalid_request", "error_description": "the body is too large"}, 413)
    try:
        form = await _form(request)
        if "grant_type" not in form:
            raise InvalidRequest("grant_type is required")
        credentials = client_auth.from_request(request.headers.get("authorization"), form)
        grant = GRANTS.get(form["grant_type"])
        if grant is None:
            raise UnsupportedGrantType("this server does not support that grant_type")
        issued = await grant.handle(ctx, tenant_slug=slug, credentials=credentials, scope=form.get("scope"))
    except OAuthError as exc:
        return error_response(exc)
    except NotFound:
        return _json({"error": "not_found", "error_description": "no such tenant"}, 404)
    return _json(issued)
