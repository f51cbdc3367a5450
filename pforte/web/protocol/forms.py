"""The form-posting protocol endpoints (token, introspection, revocation) at the ASGI level.

``POST /t/{slug}/{token,introspect,revoke}`` is answered here before any router: read the body
(small; 413 past ``MAX_BODY``), parse it with ``parse_qsl`` (form-encoded only; a repeated
parameter is ``invalid_request``, RFC 6749 §3.1, unless the endpoint names another error for it;
a name or value holding a C0 control character or DEL is ``invalid_request`` before any look-up,
``domain.text``), find the tenant in the cache, authenticate the client
(``client_secret_basic`` or ``client_secret_post``, never both), and hand the endpoint the
tenant, client and form. Every answer is JSON with ``Cache-Control: no-store``.

The same code serves the Starlette routes of these paths, which exist for the other methods
(405) and for an app mounted without the dispatcher.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pforte.domain.errors import Unavailable
from pforte.domain.ids import SLUG_RE
from pforte.domain.oauth import client_auth
from pforte.domain.oauth.client_auth import ClientCredentials
from pforte.domain.oauth.errors import InvalidClient, InvalidRequest, OAuthError, TooManyAttempts
from pforte.domain.text import has_control
from pforte.observability import log, set_tenant
from pforte.services import client_authn
from pforte.services.cache import ClientView, TenantView
from pforte.services.context import Context
from pforte.web.request_body import CLOSE, BodyTimeout, BodyTooLarge, read_body

MAX_BODY = 8 * 1024
MAX_FIELDS = 32
JSON = b"application/json"
NO_STORE: list[tuple[bytes, bytes]] = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
# A parameter name that may be repeated in an error_description (RFC 6749 ASCII, short).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]]


def json_reply(body: object, status: int = 200, extra: list[tuple[bytes, bytes]] | None = None) -> Reply:
    headers = [(b"content-type", JSON), *NO_STORE, *(extra or [])]
    return Reply(status, orjson.dumps(body), headers)


def error_reply(exc: OAuthError) -> Reply:
    extra: list[tuple[bytes, bytes]] = []
    if isinstance(exc, InvalidClient) and exc.basic:
        extra.append((b"www-authenticate", b'Basic realm="pforte", charset="UTF-8"'))
    extra.extend(exc.headers())
    return json_reply({"error": exc.error, "error_description": exc.description}, exc.status, extra)


NO_SUCH_TENANT = json_reply({"error": "not_found", "error_description": "no such tenant"}, 404)
TOO_LARGE = json_reply(
    {"error": "invalid_request", "error_description": "the body is too large"}, 413, [CLOSE]
)
TOO_SLOW = json_reply(
    {"error": "invalid_request", "error_description": "the body did not arrive in time"}, 408, [CLOSE]
)


class Endpoint:
    """One form-posting endpoint: what to check before authenticating, and what to do after."""

    # The error for a repeated parameter where the endpoint's standard names one other than
    # invalid_request (RFC 8707 §2 at the token endpoint: ``resource``).
    repeated: ClassVar[Mapping[str, Callable[[], OAuthError]]] = {}

    def precheck(self, form: dict[str, str]) -> None:
        """Checks that need neither tenant nor client (raise an ``OAuthError``)."""

    async def run(
        self, ctx: Context, tenant: TenantView, client: ClientView, form: dict[str, str], now: datetime
    ) -> Reply:
        raise NotImplementedError


def form_pairs(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)``, with a fast path
    for the usual token request that has nothing to unescape (no ``%``, no ``+``)."""
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    fields = [field for field in text.split("&") if field]
    if len(fields) > MAX_FIELDS:
        raise ValueError("Max number of fields exceeded")
    return [(name, value) for name, _, value in (field.partition("=") for field in fields)]


def _parameter(name: str) -> str:
    """How an error description names a parameter: by name when that is plain ASCII."""
    return f"the parameter {name}" if _PLAIN_NAME.fullmatch(name) else "a parameter"


def parse_form(
    content_type: str, body: bytes, repeated: Mapping[str, Callable[[], OAuthError]] | None = None
) -> dict[str, str]:
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise InvalidRequest("the body must be application/x-www-form-urlencoded")
    try:
        text = body.decode("utf-8")
        pairs = form_pairs(text)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the body is not a valid form") from None
    # No identifier, secret, token, scope or URI holds a control character; PostgreSQL would
    # refuse NUL in a look-up that SQLite answers. Such a request is malformed (§5.2). Only a
    # "%" escape can hide one in the raw text; printable ASCII (the usual request) holds none.
    if "%" in text or not (text.isascii() and text.isprintable()):
        for name, value in pairs:
            if has_control(name) or has_control(value):
                raise InvalidRequest(f"{_parameter(name)} contains a control character")
    form: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in pairs:
        # "Request and response parameters MUST NOT be included more than once." (§3.1)
        if name in seen:
            if repeated and name in repeated:
                raise repeated[name]()
            raise InvalidRequest(f"{_parameter(name)} is repeated")
        seen.add(name)
        if value:  # "sent without a value MUST be treated as if they were omitted"
            form[name] = value
    return form


async def handle(ctx: Context, endpoint: Endpoint, slug: str, scope: Scope, receive: Receive) -> Reply:
    set_tenant(slug)
    content_type = ""
    authorization: str | None = None
    declared: int | None = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.decode("latin-1")
        elif name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                return error_reply(InvalidRequest("bad Content-Length"))
    try:
        body = await read_body(receive, limit=MAX_BODY, declared=declared, seconds=ctx.settings.body_timeout)
    except BodyTooLarge:
        return TOO_LARGE
    except BodyTimeout:
        return TOO_SLOW
    if body is None:  # the client went away
        body = b""
    try:
        form = parse_form(content_type, body, endpoint.repeated)
        endpoint.precheck(form)
        tenant = await ctx.cache.tenant(slug) if SLUG_RE.fullmatch(slug) else None
        if tenant is None:
            return NO_SUCH_TENANT
        credentials = client_auth.from_request(authorization, form)
        now = ctx.clock()  # one clock reading for the whole request
        client = await _authenticate(ctx, tenant, credentials, now)
        return await endpoint.run(ctx, tenant, client, form, now)
    except OAuthError as exc:
        return error_reply(exc)


async def _authenticate(
    ctx: Context, tenant: TenantView, credentials: ClientCredentials, now: datetime
) -> ClientView:
    """Client authentication, throttled per client id (``services.throttle``): while blocked,
    429 whatever the credentials; a failure is counted, maybe slowed down, maybe 429."""
    blocked = ctx.throttle.blocked(tenant.slug, credentials.client_id)
    if blocked is not None:
        raise TooManyAttempts(blocked)
    try:
        return await client_authn.authenticate(ctx, tenant, credentials, now)
    except InvalidClient:
        verdict = await ctx.throttle.failed(tenant.slug, credentials.client_id)
        if verdict.retry_after is not None:
            raise TooManyAttempts(verdict.retry_after) from None
        if verdict.delay:
            await asyncio.sleep(verdict.delay)
        raise


async def send_reply(send: Send, reply: Reply) -> None:
    headers = [*reply.headers, (b"content-length", str(len(reply.body)).encode())]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


class FormDispatch:
    """ASGI middleware: POSTs to the form endpoints skip the router entirely."""

    def __init__(self, app: ASGIApp, ctx: Context, endpoints: dict[str, Endpoint]) -> None:
        self.app = app
        self.ctx = ctx
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            if path.startswith("/t/"):
                slug, sep, name = path[3:].partition("/")
                # A trailing slash names the same endpoint (as on the admin API): no redirect, no 404.
                endpoint = self.endpoints.get(name[:-1] if name.endswith("/") else name) if sep else None
                if endpoint is not None:
                    try:
                        reply = await handle(self.ctx, endpoint, slug, scope, receive)
                    except Unavailable as exc:  # RFC 6749 §4.1.2.1's code for "try again later"
                        body = {"error": "temporarily_unavailable", "error_description": exc.message}
                        reply = json_reply(body, 503, [(b"retry-after", b"1")])
                    except Exception:  # noqa: BLE001 - answered as server_error, logged whole
                        log.exception("protocol_endpoint_failed", endpoint=name)
                        reply = json_reply({"error": "server_error"}, 500)
                    await send_reply(send, reply)
                    return
        await self.app(scope, receive, send)


def route(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    """The same endpoint as a Starlette route (reached when no dispatcher sits in front)."""

    async def starlette_endpoint(request: Request) -> Response:
        ctx: Context = request.app.state.ctx
        reply = await handle(ctx, endpoint, request.path_params["slug"], request.scope, request.receive)
        response = Response(reply.body, status_code=reply.status)
        response.raw_headers = [*reply.headers, (b"content-length", str(len(reply.body)).encode())]
        return response

    return starlette_endpoint
