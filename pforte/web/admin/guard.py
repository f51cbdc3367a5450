"""ASGI guard in front of the admin API: trailing slashes, content types, body size.

- ``/clients/`` and ``/clients`` are the same resource, with no redirect (a redirected POST
  would lose its body).
- A request body must be JSON: ``application/json`` or any ``application/*+json`` (the Vantage
  examples send ``application/json-patch+json``); anything else is 415.
- A body over the limit is 413, before any of it is parsed; one that takes longer than
  ``PFORTE_BODY_TIMEOUT`` to arrive is 408 (``web.request_body``: both close the connection).
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pforte.web.problems import problem
from pforte.web.request_body import BodyTimeout, BodyTooLarge, read_body

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        return True
    kind, _, subtype = media.partition("/")
    return kind == "application" and subtype.endswith("+json")


class AdminGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_timeout: float = 10.0) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            inner = {
                **scope,
                "path": path.rstrip("/") or "/",
                "raw_path": scope.get("raw_path", b"").rstrip(b"/"),
            }
            try:
                await self._guard(inner, receive, send)
            finally:  # what the router found, for the metrics' route label (web.metrics)
                for key in ("route", "root_path"):
                    if key in inner:
                        scope[key] = inner[key]
            return
        await self._guard(scope, receive, send)

    async def _guard(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        try:
            body = await read_body(
                receive,
                limit=self.max_body_bytes,
                declared=int(declared) if declared is not None and declared.isdigit() else None,
                seconds=self.body_timeout,
            )
        except BodyTooLarge:
            detail = f"the body must not exceed {self.max_body_bytes} bytes"
            await _closing(problem("payload-too-large", detail))(scope, receive, send)
            return
        except BodyTimeout:
            detail = f"the body did not arrive within {self.body_timeout:g} seconds"
            await _closing(problem("request-timeout", detail))(scope, receive, send)
            return
        if body is None:  # the client went away
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


def _closing(response: Response) -> Response:
    response.headers["connection"] = "close"
    return response
