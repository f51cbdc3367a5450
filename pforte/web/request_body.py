"""Reading a request body at the ASGI level within a size and a time limit.

- Past the size limit (declared by ``Content-Length`` or counted) the answer is 413. The rest
  of the body is read and discarded first — at most ``DRAIN_BYTES`` or ``DRAIN_SECONDS`` — since
  a server that closes a socket with unread data in it makes the kernel send a TCP reset, which
  can destroy the answer before the client reads it. The connection is closed after the answer.
- A body that has not fully arrived ``seconds`` seconds after its reading began is 408
  (RFC 9110 §15.5.9), and the connection is closed: a client trickling its body (slowloris)
  holds a connection for that long at most. Headers are the ASGI server's (docs/security.md).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from starlette.types import Receive

DRAIN_BYTES = 32 * 1024 * 1024
DRAIN_SECONDS = 5.0
CLOSE = (b"connection", b"close")


class BodyTooLarge(Exception):
    """The body is larger than the limit; what was sent of it has been drained (bounded)."""


class BodyTimeout(Exception):
    """The body did not arrive in time."""


class _Watch:
    """One timer per event loop for every body being read, instead of one per request (an
    ``asyncio.timeout`` per token request cost ~15 µs, a tenth of the request): a sweep every
    second cancels the readers whose deadline has passed, and only while there are readers."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.deadlines: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self.armed = False

    def start(self, task: asyncio.Task[Any], seconds: float) -> None:
        self.deadlines[task] = self.loop.time() + seconds
        if not self.armed:
            self.armed = True
            self.loop.call_later(SWEEP_SECONDS, self._sweep)

    def stop(self, task: asyncio.Task[Any]) -> bool:
        """Stop watching ``task``; whether its deadline had passed (and it was cancelled)."""
        self.deadlines.pop(task, None)
        if task in self.expired:
            self.expired.discard(task)
            return True
        return False

    def _sweep(self) -> None:
        now = self.loop.time()
        for task, deadline in list(self.deadlines.items()):
            if deadline <= now:
                del self.deadlines[task]
                self.expired.add(task)
                task.cancel()
        self.armed = bool(self.deadlines)
        if self.armed:
            self.loop.call_later(SWEEP_SECONDS, self._sweep)


SWEEP_SECONDS = 1.0
_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watch] = weakref.WeakKeyDictionary()


_last: list[_Watch] = []  # the last loop's watch: a server runs one loop, tests several


def _watch() -> _Watch:
    loop = asyncio.get_running_loop()
    if _last and _last[0].loop is loop:
        return _last[0]
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = _Watch(loop)
    _last[:] = [watch]
    return watch


async def read_body(receive: Receive, *, limit: int, declared: int | None, seconds: float) -> bytes | None:
    """The whole body, or None if the client went away. BodyTooLarge past ``limit`` bytes (after
    draining the rest), BodyTimeout if it takes longer than ``seconds`` (give or take the
    sweep's second)."""
    if declared is not None and declared > limit:
        await drain(receive)
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    task = asyncio.current_task()
    assert task is not None
    watch = _watch()
    watch.start(task, seconds)
    try:
        while True:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks) if len(chunks) != 1 else chunks[0]
    except asyncio.CancelledError:
        if not watch.stop(task):
            raise  # cancelled by someone else
        task.uncancel()
        raise BodyTimeout from None
    finally:
        if watch.stop(task):  # expired just as the body completed: the cancel must not land later
            task.uncancel()
    await drain(receive)
    raise BodyTooLarge


async def drain(receive: Receive) -> None:
    """Read and discard the rest of the body: until its end, the client leaving, ``DRAIN_BYTES``
    or ``DRAIN_SECONDS``, whichever comes first."""
    drained = 0
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while drained <= DRAIN_BYTES:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
                drained += len(message.get("body", b""))
    except TimeoutError:
        return
