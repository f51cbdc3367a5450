"""Slow headers (slowloris) against a real ``pforte serve``: a request whose line and headers do
not arrive within ``PFORTE_HEADER_TIMEOUT`` is answered 408 and its connection closed; a
connection that sends nothing is closed; a prompt client on a kept-alive connection is not
disturbed; an idle kept-alive connection is closed after uvicorn's keep-alive timeout."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Server, base_env, start

pytestmark = pytest.mark.e2e

HEADER_TIMEOUT = 1.0
SWEEP = 1.0  # deadlines are checked once a second


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("headers")
    running = start(workdir, base_env(workdir, PFORTE_HEADER_TIMEOUT=str(HEADER_TIMEOUT)))
    yield running
    running.stop()


def read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long after the call that took."""
    started = time.monotonic()
    sock.settimeout(limit)
    received = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return received, time.monotonic() - started
        received += chunk


def test_headers_sent_a_byte_at_a_time_get_a_408_and_a_closed_connection(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /t/system/token HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer = b""
        for byte in b"X-Slow: " + b"a" * 40:  # one byte every 0.1 s: 4.8 s, if it were let
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.settimeout(0.1)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            answer += chunk
            if not chunk or answer.endswith(b"\r\n\r\n") or b"in time" in answer:
                break
        rest, _ = read_until_closed(sock, 5)
        waited = time.monotonic() - started
    answer += rest
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    assert b"connection: close" in answer
    assert answer.endswith(b"the request headers did not arrive in time.\r\n")
    assert HEADER_TIMEOUT <= waited <= HEADER_TIMEOUT + SWEEP + 5  # generous: CI machines are busy


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        received, waited = read_until_closed(sock, HEADER_TIMEOUT + SWEEP + 8)
    assert received == b""  # nothing was asked, nothing is answered
    assert waited <= HEADER_TIMEOUT + SWEEP + 5


def read_response(sock: socket.socket) -> bytes:
    """One whole response (head and Content-Length body), however the packets fall."""
    sock.settimeout(5)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {received!r}"
        body += chunk
    return head + b"\r\n\r\n" + body


def test_prompt_requests_on_a_kept_alive_connection_are_not_disturbed(server: Server) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for _ in range(3):  # across more than one header deadline, one request at a time
            sock.sendall(request)
            answer = read_response(sock)
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer
            assert answer.endswith(b'{"status":"ok"}')
            time.sleep(HEADER_TIMEOUT * 0.8)


KEEP_ALIVE = 5.0  # uvicorn's timeout_keep_alive, which pforte serve keeps


def test_an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout(server: Server) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        assert read_response(sock).startswith(b"HTTP/1.1 200 OK\r\n")
        time.sleep(KEEP_ALIVE * 0.6)  # idle, but not for long enough: still served
        sock.sendall(request)
        assert read_response(sock).startswith(b"HTTP/1.1 200 OK\r\n")
        received, waited = read_until_closed(sock, KEEP_ALIVE + SWEEP + 5)
    assert received == b""
    assert KEEP_ALIVE - 0.5 <= waited <= KEEP_ALIVE + SWEEP + 1
