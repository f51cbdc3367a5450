"""CORS for the endpoints a browser application calls (Fetch Standard §3.2; OIDC Core §15.5):
discovery, JWKS, userinfo, the token endpoint and revocation.

Nothing happens without an ``Origin`` header (servers, the usual token request): one scan of
the headers. With one:

- discovery, JWKS, userinfo: allowed when the origin is in some enabled client's
  ``allowedCorsOrigins`` of the tenant (``HotCache.cors_origins``: read at the first CORS
  request after a change of the tenant, never on a request without an Origin);
- token, revocation: a preflight as above (it carries no credentials), the response itself only
  when the authenticated client lists the origin — the pipeline notes the client's origins in
  ``services.cors.cors_slot`` while it authenticates;
- everything else (the pages, the admin API, introspection): no CORS headers ever.

An allowed origin is echoed in ``Access-Control-Allow-Origin`` with ``Vary: Origin``; no
credentials mode (cookies are never sent cross-origin to these endpoints). A preflight from an
origin not allowed is 403 without CORS headers.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pforte.domain.ids import is_slug
from pforte.services.context import Context
from pforte.services.cors import cors_slot

PUBLIC = {"jwks": b"GET", "userinfo": b"GET, POST", ".well-known/openid-configuration": b"GET"}
CLIENT = {"token": b"POST", "revoke": b"POST"}
RFC8414 = "/.well-known/oauth-authorization-server/t/"
MAX_AGE = b"600"


class CorsMiddleware:
    def __init__(self, app: ASGIApp, ctx: Context) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value
                break
        if origin is None:
            await self.app(scope, receive, send)
            return
        target = _target(scope["path"])
        if target is None:
            await self.app(scope, receive, send)
            return
        slug, endpoint = target
        tenant = await self.ctx.cache.tenant(slug) if is_slug(slug) else None
        text = origin.decode("latin-1")
        listed = tenant is not None and text in await self.ctx.cache.cors_origins(tenant)
        methods = PUBLIC.get(endpoint) or CLIENT[endpoint]
        if scope["method"] == "OPTIONS":
            await _preflight(send, origin if listed else None, methods)
            return
        if endpoint in PUBLIC:
            await self.app(scope, receive, _adding(send, origin if listed else None))
            return
        slot: dict[str, frozenset[str]] = {}
        token = cors_slot.set(slot)
        try:
            await self.app(scope, receive, _adding(send, origin, lambda: text in slot.get("origins", ())))
        finally:
            cors_slot.reset(token)


def _target(path: str) -> tuple[str, str] | None:
    if path.startswith(RFC8414):
        return path[len(RFC8414) :].rstrip("/"), ".well-known/openid-configuration"
    if not path.startswith("/t/"):
        return None
    slug, _, rest = path[3:].partition("/")
    rest = rest.rstrip("/")
    if rest in PUBLIC or rest in CLIENT:
        return slug, rest
    return None


async def _preflight(send: Send, origin: bytes | None, methods: bytes) -> None:
    headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
    if origin is not None:
        headers += [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-methods", methods),
            (b"access-control-allow-headers", b"Authorization, Content-Type"),
            (b"access-control-max-age", MAX_AGE),
        ]
    await send(
        {"type": "http.response.start", "status": 204 if origin is not None else 403, "headers": headers}
    )
    await send({"type": "http.response.body", "body": b""})


def _adding(send: Send, origin: bytes | None, allowed: Callable[[], bool] | None = None) -> Send:
    """``send`` that adds the CORS headers to the response start, when the origin is allowed."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            ok = origin is not None and (allowed is None or allowed())
            headers = [*message.get("headers", []), (b"vary", b"Origin")]
            if ok:
                assert origin is not None
                headers.append((b"access-control-allow-origin", origin))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped
