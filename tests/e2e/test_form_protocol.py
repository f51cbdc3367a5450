"""The form endpoints answered by the HTTP protocol (``web.form_protocol``), over raw sockets to a
real ``pforte serve``: the same bytes as through ASGI (which a request with an ``Origin`` still
takes), keep-alive, pipelining, ``Connection: close``, HTTP/1.0, ``Expect: 100-continue``, and a
client that leaves before its answer."""

from __future__ import annotations

import base64
import json
import socket
import time

import httpx
import pytest

from tests.e2e.conftest import BOOTSTRAP_CLIENT_ID, BOOTSTRAP_CLIENT_SECRET, Server

pytestmark = pytest.mark.e2e

BASIC = base64.b64encode(f"{BOOTSTRAP_CLIENT_ID}:{BOOTSTRAP_CLIENT_SECRET}".encode()).decode()
WRONG = base64.b64encode(f"{BOOTSTRAP_CLIENT_ID}:not-the-secret".encode()).decode()


def request(
    path: str = "/t/system/token",
    body: bytes = b"grant_type=client_credentials",
    *,
    auth: str = BASIC,
    version: str = "1.1",
    extra: tuple[str, ...] = (),
) -> bytes:
    lines = [
        f"POST {path} HTTP/{version}",
        "Host: 127.0.0.1",
        f"Authorization: Basic {auth}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key == name]
        assert len(found) <= 1, self.headers
        return found[0] if found else None

    def json(self) -> dict[str, object]:
        parsed: dict[str, object] = json.loads(self.body)
        return parsed


class Wire:
    """One connection to the server, read response by response."""

    def __init__(self, server: Server) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.buffer = b""

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *_: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def read(self) -> Response:
        while b"\r\n\r\n" not in self.buffer:
            assert self._fill(), f"closed before a response: {self.buffer!r}"
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = [(k.lower(), v.strip()) for k, _, v in (line.partition(":") for line in lines)]
        length = int(dict(headers)["content-length"])
        while len(self.buffer) < length:
            assert self._fill(), "closed inside a body"
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Response(int(status_line.split(" ")[1]), headers, body)

    def closed(self) -> bool:
        """The server closed the connection (and sent nothing more)."""
        return not self._fill() and self.buffer == b""


def names(response: Response) -> list[str]:
    return [name for name, _ in response.headers]


def test_a_token_is_answered_keep_alive_with_the_headers_asgi_gives(server: Server) -> None:
    with Wire(server) as wire:
        wire.send(request(extra=("X-Request-ID: fast-1",)))
        fast = wire.read()
        # The same request with an Origin no client lists goes through the ASGI app (CORS).
        wire.send(request(extra=("X-Request-ID: asgi-1", "Origin: https://elsewhere.example")))
        through_asgi = wire.read()
    assert fast.status == through_asgi.status == 200
    assert fast.json()["token_type"] == "Bearer"
    expected = ["date", "content-type", "cache-control", "pragma", "content-length", "x-request-id"]
    assert names(fast) == expected
    assert names(through_asgi) == [*expected, "vary"]
    for name in ("content-type", "cache-control", "pragma"):
        assert fast.header(name) == through_asgi.header(name)
    assert fast.header("x-request-id") == "fast-1"
    assert fast.header("content-length") == str(len(fast.body))
    assert fast.header("connection") is None  # kept alive: the second request was answered


def test_pipelined_requests_are_answered_in_order_on_one_connection(server: Server) -> None:
    with Wire(server) as wire:
        wire.send(
            request(extra=("X-Request-ID: p-1",))
            + request(auth=WRONG, extra=("X-Request-ID: p-2",))
            + request("/t/system/introspect", b"token=abc", extra=("X-Request-ID: p-3",))
            + request("/t/system/revoke", b"token=abc", extra=("X-Request-ID: p-4",))
            + request("/t/system/token", b"grant_type=nope", extra=("X-Request-ID: p-5",))
        )
        answers = [wire.read() for _ in range(5)]
    assert [a.header("x-request-id") for a in answers] == ["p-1", "p-2", "p-3", "p-4", "p-5"]
    assert [a.status for a in answers] == [200, 401, 200, 200, 400]
    assert "access_token" in answers[0].json()
    assert answers[1].json()["error"] == "invalid_client"
    assert answers[1].header("www-authenticate") == 'Basic realm="pforte", charset="UTF-8"'
    assert answers[2].json() == {"active": False}
    assert answers[3].body == b""
    assert answers[4].json()["error"] == "unsupported_grant_type"


def test_connection_close_is_honoured(server: Server) -> None:
    with Wire(server) as wire:
        wire.send(request(extra=("Connection: close",)))
        answer = wire.read()
        assert answer.status == 200
        assert answer.header("connection") == "close"
        assert wire.closed()


def test_http_1_0_gets_its_answer_and_the_connection_closed(server: Server) -> None:
    with Wire(server) as wire:
        wire.send(request(version="1.0", auth=WRONG))
        answer = wire.read()
        assert answer.status == 401
        assert answer.header("connection") == "close"
        assert wire.closed()


def test_expect_100_continue_is_answered_before_the_body(server: Server) -> None:
    body = b"grant_type=client_credentials"
    head = request(body=body, extra=("Expect: 100-continue",))[: -len(body)]
    with Wire(server) as wire:
        wire.send(head)
        while b"\r\n\r\n" not in wire.buffer:
            assert wire._fill()
        assert wire.buffer == b"HTTP/1.1 100 Continue\r\n\r\n"
        wire.buffer = b""
        wire.send(body)
        answer = wire.read()
    assert answer.status == 200
    assert "access_token" in answer.json()


def test_a_client_that_leaves_before_its_answer_harms_nobody(server: Server) -> None:
    for _ in range(20):  # gone with the request sent, and gone halfway through the body
        with Wire(server) as wire:
            wire.send(request())
        with Wire(server) as wire:
            wire.send(request()[:-5])
    time.sleep(0.2)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        answer = http.post(
            "/t/system/token",
            data={"grant_type": "client_credentials"},
            auth=(BOOTSTRAP_CLIENT_ID, BOOTSTRAP_CLIENT_SECRET),
        )
    assert answer.status_code == 200
    assert "Traceback" not in server.stderr() + server.stdout()


def test_pipelined_requests_of_both_paths_keep_their_order(server: Server) -> None:
    healthz = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: m-2\r\n\r\n"
    with Wire(server) as wire:
        wire.send(
            request(extra=("X-Request-ID: m-1",))
            + healthz
            + request(extra=("X-Request-ID: m-3", "Origin: https://elsewhere.example"))
            + request(auth=WRONG, extra=("X-Request-ID: m-4",))
        )
        answers = [wire.read() for _ in range(4)]
    assert [a.header("x-request-id") for a in answers] == ["m-1", "m-2", "m-3", "m-4"]
    assert [a.status for a in answers] == [200, 200, 200, 401]
    assert answers[1].body == b'{"status":"ok"}'
    assert answers[2].header("vary") == "Origin"  # through the ASGI app
    assert answers[0].header("vary") is None and answers[3].header("vary") is None
