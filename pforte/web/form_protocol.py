"""The form endpoints answered by the HTTP protocol itself: no ASGI messages on the way out.

A ``POST /t/{slug}/{token,introspect,revoke}`` without an ``Origin`` header — every server's
token request — is run by the protocol as ``FormDispatch.serve`` (the same code the ASGI app
runs for it), with a ``Respond`` that hands the whole response to the connection's
``CoalescingTransport`` as one write (it leaves at the end of the loop step, with the other
responses of that step: written at once, each response woke the client alone and cost 17–20 %
of the throughput). What it skips is only what has nothing to do for such a request:

- ``CorsMiddleware``, which passes a request without an ``Origin`` through untouched;
- the two ASGI messages of the response and uvicorn's checks of headers Pforte made itself.

uvicorn's request cycle is kept whole: it parses the request, reads the body (``receive``,
with its deadline and size limit in ``FormDispatch``), and keeps the connection's state —
keep-alive, ``Connection: close``, HTTP/1.0, pipelining, flow control and the client leaving.
Everything else (another path, an ``Origin``, uvicorn's concurrency limit, an app wrapped by
uvicorn itself) goes to the ASGI application as before.

Measured in docs/benchmarks.md §13.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from starlette.types import Receive, Scope
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, RequestResponseCycle

from pforte.observability import log
from pforte.web.header_timeout import HeaderTimeoutProtocol
from pforte.web.protocol.cors import CorsMiddleware
from pforte.web.protocol.form_dispatch import FormDispatch, Found, match
from pforte.web.request_body import CLOSE

SERVER_ERROR = (
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 21\r\nconnection: close\r\n\r\nInternal Server Error"
)


def _nothing() -> None:
    return None


def forms_behind(app: Any) -> FormDispatch | None:
    """The ``FormDispatch`` the protocol may call directly: the one right behind the app's
    ``CorsMiddleware`` (``create_app``'s stack). Any other app, or one uvicorn wrapped (trace
    logging, proxy headers), gets every request through ASGI."""
    if isinstance(app, CorsMiddleware) and isinstance(app.app, FormDispatch):
        return app.app
    return None


def _has_origin(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    for name, _ in headers:  # noqa: SIM110 - any() over a generator costs more, per request
        if name == b"origin":
            return True
    return False


class FormProtocol(HeaderTimeoutProtocol):
    """uvicorn's HTTP/1.1 protocol with the header deadline, answering the form endpoints."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.forms = None if self.config.reset_contextvars else forms_behind(self.app)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        """uvicorn's hook for starting a request's task (the first request, and each pipelined
        one after the previous response); tests/web/test_form_protocol.py holds that it is
        called."""
        forms = self.forms
        if forms is not None and app is self.app:  # not uvicorn's "service unavailable"
            scope = cycle.scope
            if scope["method"] == "POST":
                found = match(scope["path"])
                if found is not None and not _has_origin(scope["headers"]):
                    task = self.loop.create_task(self._serve(forms, found, cycle))
                    task.add_done_callback(self.tasks.discard)
                    self.tasks.add(task)
                    return
        super()._start_asgi_task(cycle, app)

    async def _serve(self, forms: FormDispatch, found: Found, cycle: RequestResponseCycle) -> None:
        """``FormDispatch.serve`` as the request's task (uvicorn's ``run_asgi`` for it)."""
        out = self.transport  # the connection's CoalescingTransport

        async def respond(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
            # As uvicorn's ``send`` does for a response given whole, without the messages.
            if cycle.flow.write_paused and not cycle.disconnected:
                await cycle.flow.drain()
            if cycle.disconnected:
                return
            cycle.response_started = True
            cycle.waiting_for_100_continue = False
            head = [STATUS_LINE[status]]
            for name, value in (*cycle.default_headers, *headers):
                head += (name, b": ", value, b"\r\n")
            if CLOSE in headers:
                cycle.keep_alive = False
            elif not cycle.keep_alive:
                head.append(b"connection: close\r\n")
            head += (b"\r\n", body)
            out.write(b"".join(head))
            cycle.response_complete = True
            cycle.message_event.set()
            if not cycle.keep_alive:
                out.close()
            cycle.on_response()

        try:
            scope = cast(Scope, cycle.scope)  # uvicorn's typed dicts; the same dicts as in ASGI
            await forms.serve(found, scope, cast(Receive, cycle.receive), respond)
        except Exception:  # noqa: BLE001 - as uvicorn's run_asgi: logged, then 500 or closed
            log.exception("protocol_endpoint_failed", path=cycle.scope["path"])
            if not cycle.response_started and not cycle.disconnected:
                cycle.response_started = cycle.response_complete = True
                out.write(SERVER_ERROR)
            out.close()
        finally:
            cycle.on_response = _nothing
