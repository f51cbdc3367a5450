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

from starlette.types import Receive

DRAIN_BYTES = 32 * 1024 * 1024
DRAIN_SECONDS = 5.0
CLOSE = (b"connection", b"close")


class BodyTooLarge(Exception):
    """The body is larger than the limit; what was sent of it has been drained (bounded)."""


class BodyTimeout(Exception):
    """The body did not arrive in time."""


async def read_body(receive: Receive, *, limit: int, declared: int | None, seconds: float) -> bytes | None:
    """The whole body, or None if the client went away. BodyTooLarge past ``limit`` bytes (after
    draining the rest), BodyTimeout if it takes longer than ``seconds``."""
    if declared is not None and declared > limit:
        await drain(receive)
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
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
    except TimeoutError:
        raise BodyTimeout from None
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
