"""RFC 9457 problem details for the admin API: one ``type`` URI per kind of problem.

What the caller sees is the safe ``message`` of a domain error; a crash becomes a generic
500 whose details go only to the log.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match

from pforte.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    Unavailable,
)
from pforte.domain.text import PATTERN_MESSAGES
from pforte.observability import current_request_id, log

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:pforte:problem:"

# kind (the suffix of the type URI) -> (status, title)
KINDS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "Bad request"),
    "malformed-json": (400, "The request body is not valid JSON"),
    "unauthorized": (401, "Authentication required"),
    "forbidden": (403, "Forbidden"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "request-timeout": (408, "Request body too slow"),
    "conflict": (409, "Conflict"),
    "precondition-failed": (412, "Precondition failed"),
    "payload-too-large": (413, "Request body too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "validation-error": (422, "Validation failed"),
    "internal-error": (500, "Internal server error"),
    "unavailable": (503, "Service unavailable"),
}


def problem(
    kind: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    status, title = KINDS[kind]
    body: dict[str, Any] = {"type": TYPE_BASE + kind, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    request_id = current_request_id()
    if request_id:
        body["requestId"] = request_id
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")
BEARER_CHALLENGE = 'Bearer realm="pforte"'


def from_domain(exc: DomainError) -> Response:
    if isinstance(exc, Invalid):
        errors = [{"field": field, "message": message} for field, message in exc.errors]
        return problem("validation-error", exc.message, errors=errors)
    if isinstance(exc, NotFound):
        return problem("not-found", exc.message)
    if isinstance(exc, Conflict):
        return problem("conflict", exc.message)
    if isinstance(exc, Unavailable):
        return problem("unavailable", exc.message, headers={"Retry-After": "1"})
    if isinstance(exc, PreconditionFailed):
        return problem("precondition-failed", exc.message)
    if isinstance(exc, Forbidden):
        challenge = f'{BEARER_CHALLENGE}, error="insufficient_scope"'
        if exc.scope:
            challenge += f', scope="{exc.scope}"'
        return problem("forbidden", exc.message, headers={"WWW-Authenticate": challenge})
    if isinstance(exc, Unauthorized):
        challenge = BEARER_CHALLENGE
        if exc.credential_given:
            challenge += ', error="invalid_token"'
        return problem("unauthorized", exc.message, headers={"WWW-Authenticate": challenge})
    return problem("bad-request", exc.message)


def _field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc[1:] if loc and loc[0] in {"body", "query", "path"} else loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def allowed_methods(request: Request) -> str:
    """Every method of the path (RFC 9110 §15.5.6): Starlette's 405 names only those of the first
    route that matches it, and FastAPI has a route per method."""
    routes = request.app.router.routes
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(isinstance(r, BaseRoute) and r.matches(scope)[0] is Match.FULL for r in routes):
            allowed.append(method)
    return ", ".join(allowed)


def install(app: FastAPI) -> None:
    async def on_domain(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return from_domain(exc)

    async def on_validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem("malformed-json", "the body could not be parsed as JSON")
        items = []
        for e in errors:
            message = str(e.get("msg", "invalid"))
            if e.get("type") == "extra_forbidden":
                message = "unknown field"
            elif e.get("type") == "string_pattern_mismatch":
                message = PATTERN_MESSAGES.get(str(e.get("ctx", {}).get("pattern")), message)
            items.append({"field": _field_path(tuple(e.get("loc", ()))), "message": message})
        detail = "; ".join(f"{i['field']}: {i['message']}" for i in items)
        return problem("validation-error", detail, errors=items)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        kind = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized"}.get(
            exc.status_code, "bad-request"
        )
        detail = "no such resource" if exc.status_code == 404 else str(exc.detail)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return problem(kind, detail, headers=headers)

    async def on_crash(_request: Request, exc: Exception) -> Response:
        log.error("unhandled error", error=type(exc).__name__, exc_info=exc)
        return problem("internal-error", "the server failed; the request id identifies it in the log")

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
