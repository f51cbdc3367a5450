"""Oversized and slow request bodies against a real ``pforte serve``: the client reads a 413
(not a TCP reset) for a 10 MB body, declared or chunked, on the admin API and on the token
endpoint; a body that trickles in is answered 408 after ``PFORTE_BODY_TIMEOUT``. Both close
the connection."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Server, base_env, start

pytestmark = pytest.mark.e2e

TEN_MB = 10 * 1024 * 1024
BODY_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("limits")
    running = start(workdir, base_env(workdir, PFORTE_BODY_TIMEOUT=str(BODY_TIMEOUT)))
    yield running
    running.stop()


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"x" * size


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_ten_megabytes_to_the_admin_api_is_a_413_the_client_reads(server: Server, chunked: bool) -> None:
    banner = server.banner()
    assert banner is not None
    body = chunks(TEN_MB) if chunked else b"{" + b" " * (TEN_MB - 2) + b"}"
    with server.http(banner.api_key) as http:
        response = http.post(
            "/api/admin/v1/tenants", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["connection"] == "close"
    problem = response.json()
    assert problem["type"] == "urn:pforte:problem:payload-too-large"
    assert problem["detail"] == "the body must not exceed 65536 bytes"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_ten_megabytes_to_the_token_endpoint_is_a_413_the_client_reads(server: Server, chunked: bool) -> None:
    body = chunks(TEN_MB) if chunked else b"grant_type=" + b"x" * (TEN_MB - 11)
    with server.http() as http:
        response = http.post(
            "/t/system/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    assert response.status_code == 413, response.text
    assert response.json() == {"error": "invalid_request", "error_description": "the body is too large"}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["connection"] == "close"


def raw_request(server: Server, head: bytes, first: bytes) -> tuple[bytes, float]:
    """Send ``head`` and the start of a body, then nothing: what the server answers, and when."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head + first)
        began = time.monotonic()
        received = b""
        while True:
            data = sock.recv(65536)
            if not data:  # the server closed the connection
                break
            received += data
        return received, time.monotonic() - began


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/admin/v1/tenants", "application/json"), ("/t/system/token", "application/x-www-form-urlencoded")],
)
def test_a_body_that_never_ends_is_a_408_after_the_timeout(
    server: Server, path: str, content_type: str
) -> None:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        "Content-Length: 1000\r\n\r\n"
    ).encode()
    received, waited = raw_request(server, head, b"grant_type=")
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout", received
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"connection: close" in headers.lower()
    assert BODY_TIMEOUT - 0.2 <= waited <= BODY_TIMEOUT + 5
    if path.startswith("/t/"):
        assert json.loads(body)["error_description"] == "the body did not arrive in time"
    else:
        assert json.loads(body)["type"] == "urn:pforte:problem:request-timeout"


def test_the_server_still_answers_after_the_abuse(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=5) as http:
        assert http.get("/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/api/admin/v1/tenants", "/t/system/token"])
def test_a_raw_client_that_sends_all_ten_megabytes_then_reads_gets_the_413(server: Server, path: str) -> None:
    """No early-response tolerance as in httpx: write everything, then read. Without the drain
    the server would close with unread data and the kernel would reset the connection."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {TEN_MB}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(head)
        for chunk in chunks(TEN_MB):
            sock.sendall(chunk)
        received = b""
        while data := sock.recv(65536):
            received += data
    assert received.startswith(b"HTTP/1.1 413 "), received[:200]
    assert b"connection: close" in received.lower()
