"""The form-posting protocol endpoints (token, introspection, revocation) at the ASGI level.

``POST /t/{slug}/{token,introspect,revoke}`` is answered here before any router: the headers
and the body (small; 413 past ``MAX_BODY``, 408 when it trickles) become a ``FormRequest``,
the endpoint's pipeline in services answers it, and its ``Reply`` becomes bytes. Nothing else
happens here: every protocol decision is in ``services.token_endpoint``,
``services.introspection`` and ``services.revocation``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pforte.domain.oauth.errors import InvalidRequest
from pforte.observability import (
    access_line,
    bind_request_id,
    log,
    request_id_of,
    set_tenant,
    unbind_request_id,
)
from pforte.services import introspection, revocation, token_endpoint
from pforte.services.context import Context
from pforte.services.form_endpoints import NO_STORE, FormRequest, Reply, error_reply
from pforte.web.request_body import CLOSE, BodyTimeout, BodyTooLarge, read_body

Endpoint = Callable[[Context, FormRequest], Awaitable[Reply]]

# The form-posting endpoints under a tenant's issuer, by their last path segment.
ENDPOINTS: dict[str, Endpoint] = {
    "token": token_endpoint.token,  # RFC 6749 §3.2
    "introspect": introspection.endpoint,  # RFC 7662 §2
    "revoke": revocation.endpoint,  # RFC 7009 §2
}
# Their route templates, the label of their requests in /metrics (known here, without a router).
ROUTES = {name: f"/t/{{slug}}/{name}" for name in ENDPOINTS}
MAX_BODY = 8 * 1024
JSON = (b"content-type", b"application/json")

TOO_LARGE = Reply(
    413, {"error": "invalid_request", "error_description": "the body is too large"}, (*NO_STORE, CLOSE)
)
TOO_SLOW = Reply(
    408,
    {"error": "invalid_request", "error_description": "the body did not arrive in time"},
    (*NO_STORE, CLOSE),
)
SERVER_ERROR = Reply(500, {"error": "server_error"})


async def handle(ctx: Context, endpoint: Endpoint, slug: str, scope: Scope, receive: Receive) -> Reply:
    """ASGI in, ``Reply`` out."""
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
    return await endpoint(ctx, FormRequest(slug, content_type, authorization, body or b""))


def encoded(reply: Reply) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The reply's headers (content type and length included) and body, as bytes."""
    if reply.body is None:
        return [*reply.headers, (b"content-length", b"0")], b""
    body = orjson.dumps(reply.body)
    return [JSON, *reply.headers, (b"content-length", str(len(body)).encode())], body


Respond = Callable[[int, list[tuple[bytes, bytes]], bytes], Awaitable[None]]
"""Writes a whole response: status, headers (content type and length included), body."""


def asgi_respond(send: Send) -> Respond:
    """``Respond`` through ASGI's ``send``: a start message, then the body in one message."""

    async def respond(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return respond


class FormDispatch:
    """ASGI middleware: POSTs to the form endpoints skip the router entirely — and, with the
    access log or the metrics on, the request-log and metrics middlewares too: the request id,
    the access line and the counts are done here, inline (ASGI layers and wrapped ``send``s
    fewer on the hot path).

    The HTTP protocol (``web.header_timeout``) calls ``match`` and ``serve`` itself for a request
    without an ``Origin`` (no CORS to add), with a ``Respond`` that writes to the socket directly:
    no ASGI messages on the way out."""

    def __init__(self, app: ASGIApp, ctx: Context, *, access_log: bool = False) -> None:
        self.app = app
        self.ctx = ctx
        self.access_log = access_log
        self.counts = ctx.counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            found = match(scope["path"])
            if found is not None:
                await self.serve(found, scope, receive, asgi_respond(send))
                return
        await self.app(scope, receive, send)

    async def serve(self, found: Found, scope: Scope, receive: Receive, respond: Respond) -> None:
        """Answer a POST to the form endpoint ``found`` (``match``) with ``respond``."""
        if self.access_log:
            await self._logged(found, scope, receive, respond)
        elif self.counts is not None:
            await self._counted(found, scope, receive, respond)
        else:
            await self._answer(found, scope, receive, respond, ())

    async def _answer(
        self,
        found: Found,
        scope: Scope,
        receive: Receive,
        respond: Respond,
        extra: tuple[tuple[bytes, bytes], ...],
    ) -> int:
        try:
            reply = await handle(self.ctx, found[1], found[2], scope, receive)
        except Exception:  # noqa: BLE001 - answered as server_error, logged whole
            log.exception("protocol_endpoint_failed", path=scope["path"])
            reply = SERVER_ERROR
        headers, body = encoded(reply)
        if extra:
            headers.extend(extra)
        await respond(reply.status, headers, body)
        return reply.status

    async def _logged(self, found: Found, scope: Scope, receive: Receive, respond: Respond) -> None:
        """What ``RequestLogMiddleware`` (and ``RequestMetrics``) do for a request, without
        wrapping ``send``."""
        request_id = request_id_of(scope)
        token = bind_request_id(request_id)
        started = time.perf_counter()
        status = 500
        try:
            status = await self._answer(
                found, scope, receive, respond, ((b"x-request-id", request_id.encode()),)
            )
        finally:
            unbind_request_id(token)
            seconds = time.perf_counter() - started
            access_line(
                request_id=request_id,
                method="POST",
                path=scope["path"],
                tenant=found[2],
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )
            if self.counts is not None:
                self.counts.request("POST", ROUTES[found[0]], status, seconds)

    async def _counted(self, found: Found, scope: Scope, receive: Receive, respond: Respond) -> None:
        """What ``RequestMetrics`` does for a request (the access log off)."""
        assert self.counts is not None
        started = time.perf_counter()
        status = 500
        try:
            status = await self._answer(found, scope, receive, respond, ())
        finally:
            self.counts.request("POST", ROUTES[found[0]], status, time.perf_counter() - started)


Found = tuple[str, Endpoint, str]
"""A form endpoint's name (its last path segment), the endpoint, and the tenant's slug."""


def match(path: str) -> Found | None:
    """The form endpoint ``path`` names (``/t/{slug}/{token,introspect,revoke}``), or None."""
    if not path.startswith("/t/"):
        return None
    slug, sep, name = path[3:].partition("/")
    # A trailing slash names the same endpoint (as on the admin API): no redirect, no 404.
    name = name[:-1] if name.endswith("/") else name
    endpoint = ENDPOINTS.get(name) if sep else None
    return None if endpoint is None else (name, endpoint, slug)


def route(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    """The same endpoint as a Starlette route (reached when no dispatcher sits in front)."""

    async def starlette_endpoint(request: Request) -> Response:
        ctx: Context = request.app.state.ctx
        reply = await handle(ctx, endpoint, request.path_params["slug"], request.scope, request.receive)
        headers, body = encoded(reply)
        response = Response(body, status_code=reply.status)
        response.raw_headers = headers
        return response

    return starlette_endpoint
