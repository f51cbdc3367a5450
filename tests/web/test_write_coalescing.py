"""``CoalescingTransport``: the writes of one loop step reach the transport as one write, in order;
``close`` hands them over first, ``abort`` drops them; nothing is written to a closing transport.

The transport below it is a real one: a loopback socket served by asyncio, its ``write``
recorded on the way through (so the bytes really go), the peer a real socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pforte.web.write_coalescing import CoalescingTransport

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Server(asyncio.Protocol):
    """Gives the test the accepted connection's transport, wrapped."""

    def __init__(self, ready: asyncio.Future[tuple[CoalescingTransport, list[bytes]]]) -> None:
        self.ready = ready

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        loop = asyncio.get_running_loop()
        written: list[bytes] = []
        real_write = transport.write

        def recording_write(data: Any) -> None:
            written.append(bytes(data))
            real_write(data)

        transport.write = recording_write  # type: ignore[method-assign]
        self.ready.set_result((CoalescingTransport(transport, loop), written))


class Client:
    """The peer: a real socket read through asyncio's streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def getsockname(self) -> tuple[str, int]:
        name: tuple[str, int] = self.writer.get_extra_info("sockname")
        return name

    def close(self) -> None:
        self.writer.close()


@contextlib.asynccontextmanager
async def connected() -> AsyncIterator[tuple[CoalescingTransport, list[bytes], Client]]:
    """A loopback connection: the server's side wrapped, its writes as they reached the socket,
    the client's side. Everything is closed afterwards."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[tuple[CoalescingTransport, list[bytes]]] = loop.create_future()
    server = await loop.create_server(lambda: Server(ready), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    transport, written = await ready
    client = Client(reader, writer)
    try:
        yield transport, written, client
    finally:
        transport.close()
        client.close()
        server.close()


async def receive_all(client: Client) -> bytes:
    """Everything until the server closes."""
    async with asyncio.timeout(5):
        return await client.reader.read()


async def test_the_writes_of_one_step_go_out_as_one_write_in_order() -> None:
    async with connected() as (transport, written, client):
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
        transport.write(b"")  # nothing: no empty write, no callback of its own
        transport.write(memoryview(b"hello"))
        assert written == []  # held until the step ends
        assert transport.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
        await asyncio.sleep(0)
        assert written == [b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"]
        # The next step's writes are a write of their own.
        transport.writelines([b"second", b" response"])
        await asyncio.sleep(0)
        assert written[1:] == [b"second response"]
        transport.close()
        assert (
            await receive_all(client) == b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhellosecond response"
        )


async def test_close_hands_over_what_is_held_first() -> None:
    async with connected() as (transport, written, client):
        transport.write(b"last words")
        transport.close()
        assert written == [b"last words"]
        assert transport.is_closing()
        await asyncio.sleep(0)  # the scheduled flush finds nothing left: no second write
        assert written == [b"last words"]
        assert await receive_all(client) == b"last words"


async def test_write_eof_hands_over_what_is_held_first() -> None:
    async with connected() as (transport, written, client):
        assert transport.can_write_eof()
        transport.write(b"before eof")
        transport.write_eof()
        assert written == [b"before eof"]
        assert await receive_all(client) == b"before eof"


async def test_abort_drops_what_is_held() -> None:
    async with connected() as (transport, written, client):
        transport.write(b"never sent")
        transport.abort()
        await asyncio.sleep(0)
        assert written == []
        assert transport.get_write_buffer_size() == 0
        assert await receive_all(client) == b""  # the connection ends; the held bytes never left


async def test_nothing_is_written_once_the_transport_is_closing() -> None:
    async with connected() as (transport, written, _client):
        transport.write(b"held")
        transport._transport.close()  # closed underneath (e.g. the peer went away)
        await asyncio.sleep(0)
        assert written == []


async def test_the_rest_is_the_transports_own() -> None:
    async with connected() as (transport, _written, client):
        assert transport.get_extra_info("peername") == client.getsockname()
        transport.pause_reading()
        assert not transport.is_reading()
        transport.resume_reading()
        assert transport.is_reading()
        transport.set_write_buffer_limits(high=4096, low=1024)
        assert transport.get_write_buffer_limits() == (1024, 4096)
        protocol = transport.get_protocol()
        transport.set_protocol(protocol)
        assert transport.get_protocol() is protocol
