"""``POST /t/{slug}/token`` — RFC 6749 §3.2, as named steps: no-store, parse the form, reject
repeated parameters, authenticate the client, dispatch on ``grant_type``.

A plain Starlette endpoint: the token path stays off FastAPI's per-request overhead.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from pforte.domain.errors import NotFound
from pforte.domain.oauth import client_auth
from pforte.domain.oauth.errors import InvalidClient, InvalidRequest, OAuthError, UnsupportedGrantType
from pforte.services.grants import client_credentials
from pforte.web.protocol.responses import json_response, no_such_tenant, tenant_request

MAX_BODY = 8 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
GRANTS = {client_credentials.GRANT_TYPE: client_credentials}


def error_response(exc: OAuthError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidClient) and exc.basic:
        headers["WWW-Authenticate"] = 'Basic realm="pforte", charset="UTF-8"'
    body = {"error": exc.error, "error_description": exc.description}
    return json_response(body, exc.status, headers={**NO_STORE, **headers})


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
    ctx, slug = tenant_request(request)
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        body = {"error": "invalid_request", "error_description": "the body is too large"}
        return json_response(body, 413, headers=NO_STORE)
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
        return no_such_tenant(NO_STORE)
    return json_response(issued, headers=NO_STORE)
