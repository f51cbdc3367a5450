"""One write to the socket per response, not one for the headers and one for the body.

uvicorn's HTTP/1.1 protocol writes a response's status line and headers to the transport as soon
as the app sends ``http.response.start``, and its body at ``http.response.body``: two ``send()``
system calls, two TCP segments and two wake-ups of the client for every response — on loopback
the kernel's half of that cost more CPU than the whole token handler's Python without its
signature (docs/benchmarks.md §10). ``CoalescingTransport`` sits between the protocol and the
real transport and holds what is written during one step of the event loop; a callback at the
end of that step hands it to the transport as one write. The order of the bytes never changes
and nothing waits longer than the current step: a response written in one go (every Pforte
response) leaves as one segment, a streamed one as one write per step.

``close`` and ``write_eof`` hand over what is held first; ``abort`` drops it, as the transport
would its own buffer. Everything else is the transport's own.
"""

from __future__ import annotations

import asyncio
from typing import Any


class CoalescingTransport(asyncio.Transport):
    """A transport that gives ``transport`` the writes of one loop step as one write."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: list[bytes | bytearray | memoryview] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        held = self._held
        if not held:
            self._loop.call_soon(self.flush)
        held.append(data)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Hand what is held to the transport, as one write (dropped once it is closing)."""
        held = self._held
        if not held:
            return
        self._held = []
        if self._transport.is_closing():
            return
        self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(data) for data in self._held)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()
