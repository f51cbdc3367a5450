"""``PFORTE_PUBLIC_URL`` defaults to the address actually served (``--host``/``--port`` or
``PFORTE_HOST``/``PFORTE_PORT``), in the links ``pforte serve`` prints and in what the serving
process publishes; an explicit value wins."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    LISTENING,
    Server,
    Servers,
    base_env,
    bootstrap_file,
    free_port,
    wait_healthy,
)

pytestmark = pytest.mark.e2e


def published_issuer(server: Server) -> str:
    with server.http() as http:
        response = http.get("/t/system/.well-known/openid-configuration")
    assert response.status_code == 200, response.text
    metadata = response.json()
    assert metadata["token_endpoint"] == f"{metadata['issuer']}/token"
    issuer: str = metadata["issuer"]
    return issuer


def start_with(servers: Servers, env: dict[str, str], args: list[str], port: int) -> Server:
    server = servers.spawn(servers.workdir(), env, args, port=port)
    assert wait_healthy(server), server.stderr()
    return server


def test_port_option_sets_the_published_urls(servers: Servers) -> None:
    port = free_port()
    # PFORTE_PORT says 8000, where nothing listens; --port wins, and so does its URL.
    env = {**base_env(servers.workdir()), "PFORTE_PORT": "8000"}
    server = start_with(servers, env, ["--host", "0.0.0.0", "--port", str(port)], port)
    expected = f"http://127.0.0.1:{port}"  # every interface: the link names the loopback one
    assert published_issuer(server) == f"{expected}/t/system"
    (line,) = [line for line in server.stdout().splitlines() if line.startswith(LISTENING)]
    consoles = f"admin console: {expected}/admin/ — API console: {expected}/api/docs"
    assert line == f"{LISTENING}http://0.0.0.0:{port} — {consoles}"
    assert f"{expected}/api/admin/v1/tenants" in bootstrap_file(server.workdir).read_text()  # curl hint
    assert ":8000" not in server.stdout() + server.stderr()


def test_an_explicit_public_url_wins(servers: Servers) -> None:
    port = free_port()
    env = {**base_env(servers.workdir()), "PFORTE_PUBLIC_URL": "https://auth.example.com/"}
    server = start_with(servers, env, ["--port", str(port)], port)
    assert published_issuer(server) == "https://auth.example.com/t/system"
    assert "API console: https://auth.example.com/api/docs" in server.stdout()
