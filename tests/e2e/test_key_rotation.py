"""Signing-key rotation with overlap against a real ``pforte serve``, seen by a real verifier.

PyJWT's ``PyJWKClient`` verifies a token from ``/t/{slug}/token``; the key is rotated (by the
``pforte keys rotate`` command in another process, or through the admin API) with
PFORTE_KEY_PUBLISH_AHEAD=0; then the server signs with the new key, and the same client verifies
the new token (fetching the JWKS again for the unknown ``kid``) and still verifies the old one.

PyJWKClient fetches the JWKS again for an unknown ``kid`` only 30 s after its last fetch (its
``cooldown_duration``); the default PFORTE_KEY_PUBLISH_AHEAD of 60 s is what spares verifiers
that wait. With no publish-ahead, as here, the clients are made without the cooldown.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from tests.e2e.conftest import Server, base_env, run_pforte, start

pytestmark = pytest.mark.e2e

API = "/api/admin/v1"
CLIENT_ID = "svc"
WITHIN = 5.0  # seconds to wait for the server to sign with a key another process made


@dataclass
class Setup:
    server: Server
    admin: dict[str, str]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("rotation")
    running = start(workdir, base_env(workdir, PFORTE_KEY_PUBLISH_AHEAD="0"))
    try:
        banner = running.banner()
        assert banner is not None, running.stdout()
        yield Setup(running, {"Authorization": f"Bearer {banner.api_key}"})
    finally:
        running.stop()


def tenant_with_client(setup: Setup, slug: str) -> str:
    """A tenant ``slug`` with a confidential client; the client's secret."""
    with setup.server.http() as http:
        created = http.post(f"{API}/tenants", json={"slug": slug}, headers=setup.admin)
        assert created.status_code == 201, created.text
        client = http.post(
            f"{API}/tenants/{slug}/clients",
            json={"clientId": CLIENT_ID, "allowedScopes": ["users:read"]},
            headers=setup.admin,
        )
        assert client.status_code == 201, client.text
        secret: str = client.json()["secret"]["value"]
        return secret


def token(server: Server, slug: str, secret: str) -> str:
    with server.http() as http:
        response = http.post(
            f"/t/{slug}/token", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, secret)
        )
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    return value


def verifier(server: Server, slug: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(f"{server.url}/t/{slug}/jwks", timeout=10, cooldown_duration=0)


def kid_of(value: str) -> str:
    kid: str = jwt.get_unverified_header(value)["kid"]
    return kid


def verify(jwks: jwt.PyJWKClient, server: Server, slug: str, value: str) -> dict[str, Any]:
    """PyJWT verifies ``value`` with the key the JWKS publishes under its ``kid``."""
    key = jwks.get_signing_key_from_jwt(value)
    assert key.key_id == kid_of(value)
    claims: dict[str, Any] = jwt.decode(
        value,
        key.key,
        algorithms=["ES256"],
        audience=f"{server.url}/api",
        issuer=f"{server.url}/t/{slug}",
    )
    assert claims["client_id"] == CLIENT_ID
    return claims


def published(server: Server, slug: str) -> list[str]:
    with server.http() as http:
        response = http.get(f"/t/{slug}/jwks")
    assert response.status_code == 200
    return [k["kid"] for k in response.json()["keys"]]


def published_within(server: Server, slug: str, kids: list[str]) -> bool:
    """The JWKS lists ``kids`` (in that order) within ``WITHIN`` seconds."""
    deadline = time.monotonic() + WITHIN
    while published(server, slug) != kids:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def signed_with(server: Server, slug: str, secret: str, kid: str) -> str:
    """The first token the server signs with ``kid``; fails after ``WITHIN`` seconds."""
    deadline = time.monotonic() + WITHIN
    while True:
        value = token(server, slug, secret)
        if kid_of(value) == kid:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"the server still signs with {kid_of(value)} {WITHIN}s after the rotation")
        time.sleep(0.05)


def test_pforte_keys_rotate_keeps_old_tokens_verifiable_and_new_ones_use_the_new_key(setup: Setup) -> None:
    server, slug = setup.server, "rotate-cli"
    secret = tenant_with_client(setup, slug)
    jwks = verifier(server, slug)
    before = token(server, slug, secret)
    old_kid = kid_of(before)
    verify(jwks, server, slug, before)
    assert published(server, slug) == [old_kid]

    result = run_pforte(["keys", "rotate", "--tenant", slug], cwd=server.workdir, env=server.env)
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"new key\s+(\S+) \(ES256\), published now, signs from ", result.stdout)
    assert found, result.stdout
    new_kid = found[1]
    assert re.search(rf"old key\s+{re.escape(old_kid)} stays published until ", result.stdout)
    # The server's JWKS is its cache's, as its signing key is: it learns of the new key through
    # the feed (the CLI is another process), and the key only signs from later on.
    assert published_within(server, slug, [old_kid, new_kid])

    after = signed_with(server, slug, secret, new_kid)  # the server learns of it through the feed
    assert verify(jwks, server, slug, after)["jti"] != verify(jwks, server, slug, before)["jti"]

    listed = run_pforte(
        ["keys", "list", "--tenant", slug], cwd=server.workdir, env={**server.env, "COLUMNS": "200"}
    )
    assert listed.returncode == 0, listed.stderr
    statuses = re.findall(r"│ (\S{43}) │ ES256 │ (\w+)", listed.stdout)
    assert statuses == [(old_kid, "retiring"), (new_kid, "active")]


def test_rotation_through_the_admin_api_takes_effect_at_once(setup: Setup) -> None:
    server, slug = setup.server, "rotate-api"
    secret = tenant_with_client(setup, slug)
    jwks = verifier(server, slug)
    before = token(server, slug, secret)
    verify(jwks, server, slug, before)

    with server.http() as http:
        rotated = http.post(f"{API}/tenants/{slug}/keys/rotate", headers=setup.admin)
        assert rotated.status_code == 201, rotated.text
        keys = http.get(f"{API}/tenants/{slug}/keys", headers=setup.admin).json()["items"]
    new = rotated.json()
    assert new["status"] == "active"
    assert [(k["kid"], k["status"]) for k in keys] == [(kid_of(before), "retiring"), (new["kid"], "active")]

    after = token(server, slug, secret)  # this server made the change: in force at once
    assert kid_of(after) == new["kid"]
    verify(jwks, server, slug, after)
    verify(jwks, server, slug, before)
    with httpx.Client(base_url=server.url) as http:
        assert http.get(f"/t/{slug}/jwks").headers["cache-control"] == "public, max-age=60"
