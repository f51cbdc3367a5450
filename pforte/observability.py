"""Structured logs (structlog, JSON lines) with redaction, and the per-request id.

No secret, key or password value ever reaches a log line: credential-shaped strings are
masked wherever they appear, and values of sensitive keys are dropped.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_request_id: ContextVar[str | None] = ContextVar("pforte_request_id", default=None)
# A mutable per-request slot: a value set in a copied context (a threadpool dependency) still arrives.
_tenant: ContextVar[dict[str, str] | None] = ContextVar("pforte_tenant", default=None)
_CREDENTIAL = re.compile(r"pf[skr]_[0-9A-Za-z]{8,}")
_SENSITIVE_KEYS = frozenset(
    {"authorization", "password", "secret", "client_secret", "value", "api_key", "token", "secret_key"}
)
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def current_request_id() -> str | None:
    return _request_id.get()


def set_tenant(slug: str) -> None:
    slot = _tenant.get()
    if slot is not None:
        slot["tenant"] = slug


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return _CREDENTIAL.sub(lambda m: m.group(0)[:4] + "[redacted]", value)
    return value


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key.lower() in _SENSITIVE_KEYS:
            event[key] = "[redacted]"
        else:
            event[key] = redact_value(event[key])
    return event


def configure_logging(level: str = "info") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level.upper(), force=True)
    logging.getLogger("uvicorn.access").disabled = True
    # Driver and SQL logs carry statement parameters that structlog's redaction never sees.
    for name in ("alembic", "aiosqlite", "asyncpg", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )


log = structlog.get_logger("pforte")


class RequestLogMiddleware:
    """One log line per request: request id, method, path, tenant, status, duration.

    The request id is taken from ``X-Request-ID`` when it is well-formed, else made here, and
    returned in the response's ``X-Request-ID``. Headers and bodies are never logged.
    """

    def __init__(self, app: ASGIApp, *, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        well_formed = _REQUEST_ID_RE.fullmatch(incoming) and not _CREDENTIAL.search(incoming)
        request_id = incoming if well_formed else uuid.uuid4().hex
        token = _request_id.set(request_id)
        slot: dict[str, str] = {}
        tenant_token = _tenant.set(slot)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.enabled:
                log.info(
                    "request",
                    request_id=request_id,
                    method=scope["method"],
                    path=scope["path"],
                    tenant=slot.get("tenant"),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            _request_id.reset(token)
            _tenant.reset(tenant_token)
