"""A deadline for a request's line and headers under uvicorn, which has none (slowloris).

uvicorn's only timer, ``timeout_keep_alive``, runs between requests and is cancelled by the
first byte of the next one: a client sending its headers a byte at a time held a connection for
as long as it liked. This protocol (uvicorn's own httptools protocol, extended) gives every
connection ``PFORTE_HEADER_TIMEOUT`` seconds from its opening, and every later request as long
from its first byte, to deliver a complete request line and headers; after that a started
request gets ``408 Request Timeout`` (RFC 9110 §15.5.9) and the connection is closed. The body
has its own deadline (``web/request_body.py``).

As there, one sweep per second per process checks every deadline, instead of a timer per
request on the token path. uvicorn's own keep-alive timer (``timeout_keep_alive``, 5 s: a
connection idle that long between requests is closed) is a deadline of the same sweep, not a
timer armed after every response and cancelled by the next request: an idle connection is
closed after 5 to 6 seconds.

The protocol also writes each response to the socket once (``web.write_coalescing``).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pforte.settings import load_settings
from pforte.web.write_coalescing import CoalescingTransport

SWEEP_SECONDS = 1.0
TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 45\r\nconnection: close\r\n\r\n"
    b"the request headers did not arrive in time.\r\n"
)


class _Deadlines:
    """The deadlines of every connection of one event loop, checked by one sweep a second: the
    request headers' (``due``) and the keep-alive's between requests (``idle``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.due: dict[HeaderTimeoutProtocol, float] = {}
        self.idle: dict[HeaderTimeoutProtocol, float] = {}
        self.armed = False

    def watch(self, protocol: HeaderTimeoutProtocol, seconds: float) -> None:
        """From now, unless already watched (the first request counts from the connection)."""
        self.due.setdefault(protocol, self.loop.time() + seconds)
        self._arm()

    def forget(self, protocol: HeaderTimeoutProtocol) -> None:
        self.due.pop(protocol, None)

    def rest(self, protocol: HeaderTimeoutProtocol, seconds: float) -> None:
        """The connection waits for its next request: closed if none starts within ``seconds``."""
        self.idle[protocol] = self.loop.time() + seconds
        self._arm()

    def wake(self, protocol: HeaderTimeoutProtocol) -> None:
        self.idle.pop(protocol, None)

    def _arm(self) -> None:
        if not self.armed:
            self.armed = True
            self.loop.call_later(SWEEP_SECONDS, self._sweep)

    def _sweep(self) -> None:
        now = self.loop.time()
        for protocol in _expired(self.due, now):
            protocol.headers_timed_out()
        for protocol in _expired(self.idle, now):
            protocol.timeout_keep_alive_handler()
        self.armed = bool(self.due or self.idle)
        if self.armed:
            self.loop.call_later(SWEEP_SECONDS, self._sweep)


def _expired(deadlines: dict[HeaderTimeoutProtocol, float], now: float) -> list[HeaderTimeoutProtocol]:
    """The connections whose deadline has passed, taken out of ``deadlines``."""
    gone = [protocol for protocol, deadline in deadlines.items() if deadline <= now]
    for protocol in gone:
        del deadlines[protocol]
    return gone


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for the request line and headers."""

    # PFORTE_HEADER_TIMEOUT, read once per process (uvicorn's --workers are fresh processes).
    timeout: ClassVar[float | None] = None
    _deadlines: ClassVar[dict[asyncio.AbstractEventLoop, _Deadlines]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if HeaderTimeoutProtocol.timeout is None:
            HeaderTimeoutProtocol.timeout = load_settings().header_timeout
        self.seconds: float = HeaderTimeoutProtocol.timeout
        deadlines = self._deadlines.get(self.loop)
        if deadlines is None:
            deadlines = self._deadlines[self.loop] = _Deadlines(self.loop)
        self.deadlines = deadlines
        self.started = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))
        self.deadlines.watch(self, self.seconds)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.started = True
        self.deadlines.watch(self, self.seconds)

    def on_headers_complete(self) -> None:
        self.deadlines.forget(self)
        self.started = False
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadlines.forget(self)
        self.deadlines.wake(self)
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        """uvicorn's, with the keep-alive deadline in the sweep instead of a timer per response."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:  # pipelined requests: start the next one
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self.deadlines.rest(self, self.timeout_keep_alive)

    def _unset_keepalive_if_required(self) -> None:
        """Called by uvicorn when data arrives (and when the connection is lost)."""
        self.deadlines.wake(self)

    def headers_timed_out(self) -> None:
        if self.transport.is_closing():
            return
        if self.started:
            self.transport.write(TIMED_OUT)
        self.transport.close()
