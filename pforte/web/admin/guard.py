"""ASGI guard in front of the admin API: trailing slashes, content types, body size.

- ``/clients/`` and ``/clients`` are the same resource, with no redirect (a redirected POST
  would lose its body).
- A request body must be JSON: ``application/json`` or any ``application/*+json`` (the Vantage
  examples send ``application/json-patch+json``); anything else is 415.
- A body over the limit is 413, before any of it is parsed.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pforte.web.problems import problem

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        return True
    kind, _, subtype = media.partition("/")
    return kind == "application" and subtype.endswith("+json")


class AdminGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = {
                **scope,
                "path": path.rstrip("/") or "/",
                "raw_path": scope.get("raw_path", b"").rstrip(b"/"),
            }
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if body and not is_json(content_type):
            response = problem(
                "unsupported-media-type",
                "send the body as application/json (or an application/*+json type)",
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem("payload-too-large", f"the body must not exceed {self.max_body_bytes} bytes")
        await response(scope, receive, send)
