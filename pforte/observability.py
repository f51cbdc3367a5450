"""Structured logs (structlog, JSON lines) with redaction, and the per-request id.

No secret, key or password value ever reaches a log line: credential-shaped strings are
masked wherever they appear, and values of sensitive keys are dropped.

The access log — one line per request, on by default — is the only line written on every
request, so it skips structlog's processor chain: the same members (``request_id``, ``method``,
``path``, ``tenant``, ``status``, ``duration_ms``, ``event``, ``level``, ``timestamp``) are
rendered by orjson, with the same redaction of credential shapes. Every line, structlog's and
the access log's, goes through one ``LineBuffer``: in the serving process lines are appended,
as bytes, to one buffer in memory and written to stdout by a background thread every
``FLUSH_SECONDS`` and at shutdown, not flushed one by one on the event loop (a line costs an
append, not a ``write``).
What a buffer can lose: a process killed with SIGKILL (or a crash of the interpreter) loses the
lines of its last ``FLUSH_SECONDS``; a normal stop loses none. Past ``MAX_BUFFERED_BYTES``
waiting (stdout blocked), new lines are dropped and counted, and a ``log_lines_dropped`` line
says how many once writing works again.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import sys
import threading
import time
from collections.abc import MutableMapping
from contextvars import ContextVar, Token
from typing import IO, Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pforte.domain.clock import SecondText

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


FLUSH_SECONDS = 0.2
MAX_BUFFERED_BYTES = 8 * 1024 * 1024


class LineBuffer:
    """Lines for one stream: written at once (``buffered=False``), or kept in memory and written
    by a daemon thread every ``FLUSH_SECONDS`` and by ``flush()`` (at shutdown, and at exit).

    Buffered lines are encoded and appended to one ``bytearray`` (under a lock the writer thread
    takes only to swap it for an empty one): each line's ``str`` is freed at once. A list of
    the lines kept some thousand strings alive per interval, and that cost the token endpoint
    about 10 µs a request in cache misses, four times what making the line costs."""

    def __init__(self, stream: IO[str], *, buffered: bool) -> None:
        self.stream = stream
        self.buffered = buffered
        self._pending = bytearray()
        self._dropped = 0
        self._lock = threading.Lock()  # guards _pending and _dropped
        self._write_lock = threading.Lock()  # one writer of the stream at a time (thread, shutdown)
        self._thread: threading.Thread | None = None

    def write(self, line: str) -> None:
        """One line, ending in a newline. In buffered mode: an append on the caller's thread."""
        if not self.buffered:
            with self._write_lock:
                self.stream.write(line)
                self.stream.flush()
            return
        data = line.encode("utf-8", "backslashreplace")
        with self._lock:
            if len(self._pending) > MAX_BUFFERED_BYTES:
                self._dropped += 1
                return
            self._pending += data
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pforte-log-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            self.flush()

    def flush(self) -> None:
        with self._write_lock:
            with self._lock:
                pending, self._pending = self._pending, bytearray()
                dropped, self._dropped = self._dropped, 0
            if dropped:
                note = {"dropped": dropped, "event": "log_lines_dropped", "level": "error"}
                pending += _render(note).encode()
            if pending:
                with contextlib.suppress(OSError, ValueError):  # stdout closed: nothing left to tell
                    self._write(pending)

    def _write(self, data: bytearray) -> None:
        """To the stream's binary layer when it has one (after what its text layer holds)."""
        binary: IO[bytes] | None = getattr(self.stream, "buffer", None)
        if binary is None:
            self.stream.write(data.decode("utf-8"))
            self.stream.flush()
            return
        self.stream.flush()
        binary.write(data)
        binary.flush()


class _BufferFile:
    """The file structlog's ``WriteLogger`` writes to: lines into the ``LineBuffer``."""

    def write(self, text: str) -> None:
        _sink.write(text)

    def flush(self) -> None:
        """Nothing: the buffer flushes on its own schedule."""


_sink = LineBuffer(sys.stdout, buffered=False)
_access_enabled = True  # the access log needs the info level


def flush_logs() -> None:
    """Write every buffered line now (the lifespan's end, exit)."""
    _sink.flush()


atexit.register(flush_logs)


def configure_logging(level: str = "info", *, stream: IO[str] | None = None, buffered: bool = False) -> None:
    """JSON lines to ``stream`` (stdout), at ``level``. ``buffered``: the serving process's
    setting — lines are written off the event loop (``LineBuffer``)."""
    global _sink, _access_enabled
    _sink.flush()
    _sink = LineBuffer(stream or sys.stdout, buffered=buffered)
    _access_enabled = logging.getLevelName(level.upper()) <= logging.INFO
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
        logger_factory=structlog.WriteLoggerFactory(file=_BufferFile()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )


log = structlog.get_logger("pforte")


def _render(members: dict[str, Any]) -> str:
    return orjson.dumps(members).decode() + "\n"


def access_line(
    *, request_id: str, method: str, path: str, tenant: str | None, status: int, duration_ms: float
) -> None:
    """The request's line, as structlog would have rendered ``log.info("request", ...)`` (same
    members, same order), put together directly: one per request. ``path`` and ``tenant`` come
    from the client and are redacted and JSON-escaped; the rest cannot need it (a request id
    is ``[A-Za-z0-9._-]``, the method a token)."""
    if not _access_enabled:
        return
    timestamp = _utc_timestamp()
    _sink.write(
        f'{{"request_id":"{request_id}","method":"{method}",'
        f'"path":{_json_text(path)},"tenant":{_json_text(tenant)},"status":{status},'
        f'"duration_ms":{float(duration_ms)!r},"event":"request","level":"info","timestamp":"{timestamp}"}}\n'
    )


_LOG_SECOND = SecondText("%Y-%m-%dT%H:%M:%S")


def _utc_timestamp() -> str:
    """Now as ``2026-12-06T12:39:19.674568Z``: what structlog's ``TimeStamper(fmt="iso",
    utc=True)`` writes, from ``time.time_ns()`` and a per-second cache of the date and time
    (``datetime.now(UTC).isoformat()`` cost the token endpoint ~7 µs a request under load)."""
    second, rest = divmod(time.time_ns(), 1_000_000_000)
    return f"{_LOG_SECOND(second)}.{rest // 1000:06d}Z"


def _json_text(value: str | None) -> str:
    """A client-sent value as a JSON string (redacted), or null."""
    if value is None:
        return "null"
    if "pf" in value:  # the prefix of every Pforte credential (_CREDENTIAL): most values lack it
        value = redact_value(value)
    return orjson.dumps(value).decode()


class _RequestIds:
    """Request ids: a random 64-bit prefix per process and a counter — 32 hex digits, as a
    ``uuid4().hex`` was, unique across processes, at a fraction of its cost."""

    def __init__(self) -> None:
        self.reset()
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = 0

    def next(self) -> str:
        self.counter += 1
        return f"{self.prefix}{self.counter & 0xFFFFFFFFFFFFFFFF:016x}"


_ids = _RequestIds()


def request_id_of(scope: Scope) -> str:
    """The request's id: its ``X-Request-ID`` when well-formed (and not credential-shaped),
    else a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            incoming: str = value.decode("latin-1")
            if _REQUEST_ID_RE.fullmatch(incoming) and not _CREDENTIAL.search(incoming):
                return incoming
            break
    return _ids.next()


def bind_request_id(request_id: str) -> Token[str | None]:
    """Make ``request_id`` the current request's (audit events and problems name it)."""
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


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
        request_id = request_id_of(scope)
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
                access_line(
                    request_id=request_id,
                    method=scope["method"],
                    path=scope["path"],
                    tenant=slot.get("tenant"),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            _request_id.reset(token)
            _tenant.reset(tenant_token)
