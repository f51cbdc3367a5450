"""People sign in to an application: the authorization code flow end to end against a real
``pforte serve``, driven by Authlib's ``OAuth2Session`` as a web application would run it.

The endpoints come from discovery; the tenant and the application from the admin API; the user
from ``pforte users create``; the browser's part (the sign-in form) is plain HTTP against the
real HTML page. The ID token and access token are verified with PyJWT's ``PyJWKClient``.
"""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.e2e.conftest import Server, pforte_command

pytestmark = pytest.mark.e2e

API = "/api/admin/v1"
SLUG = "shop"
REDIRECT = "https://shop.example.com/callback"
USERNAME, PASSWORD = "Ada", "a long enough password"
TIMEOUT = 10
_INPUT = re.compile(r'<input[^>]*\bname="(?P<name>[^"]+)"[^>]*\bvalue="(?P<value>[^"]*)"')
_ACTION = re.compile(r'<form[^>]*\baction="(?P<action>[^"]+)"')


@dataclass(frozen=True, slots=True)
class Provider:
    base: str
    document: dict[str, Any]
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def provider(server: Server) -> Iterator[Provider]:
    banner = server.banner()
    assert banner is not None
    with server.http(banner.api_key) as admin:
        assert (
            admin.post(f"{API}/tenants", json={"slug": SLUG, "displayName": "Shop GmbH"}).status_code == 201
        )
        created = admin.post(
            f"{API}/tenants/{SLUG}/clients",
            json={
                "clientId": "shop-web",
                "clientName": "Shop",
                "allowedGrantTypes": ["authorization_code", "refresh_token"],
                "allowedScopes": ["openid", "profile", "email"],
                "redirectUris": [REDIRECT],
                "allowOfflineAccess": True,
            },
        )
        assert created.status_code == 201, created.text
    made = subprocess.run(
        [
            *pforte_command(),
            "users",
            "create",
            "--tenant",
            SLUG,
            "--username",
            USERNAME,
            "--email",
            "ada@example.com",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env=server.env,
        cwd=server.workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    document = requests.get(f"{server.url}/t/{SLUG}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    yield Provider(server.url, document, "shop-web", created.json()["secret"]["value"])


def sign_in(
    browser: requests.Session, provider: Provider, url: str, password: str = PASSWORD
) -> requests.Response:
    """The user's part: open the authorization URL, fill in the form, submit it."""
    page = browser.get(url, timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    action = _ACTION.search(page.text)
    assert action is not None
    fields = {m["name"]: html.unescape(m["value"]) for m in _INPUT.finditer(page.text)}
    fields.update(username=USERNAME, password=password)
    return browser.post(
        provider.base + html.unescape(action["action"]), data=fields, allow_redirects=False, timeout=TIMEOUT
    )


def session_for(provider: Provider) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope="openid profile email",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )


def test_authlib_runs_the_whole_flow(provider: Provider) -> None:
    doc = provider.document
    client = session_for(provider)
    verifier = "v" * 20 + "erifier-" + "x" * 30
    url, state = client.create_authorization_url(
        doc["authorization_endpoint"], code_verifier=verifier, nonce="n-123"
    )
    assert create_s256_code_challenge(verifier) in url
    browser = requests.Session()
    answer = sign_in(browser, provider, url)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT)
    returned = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert (returned["state"], returned["iss"]) == (state, doc["issuer"])  # RFC 9207

    token = client.fetch_token(doc["token_endpoint"], authorization_response=location, code_verifier=verifier)
    assert {"access_token", "id_token", "refresh_token", "expires_in"} <= set(token)

    keys = jwt.PyJWKClient(doc["jwks_uri"], timeout=TIMEOUT)
    id_claims = jwt.decode(
        token["id_token"],
        keys.get_signing_key_from_jwt(token["id_token"]).key,
        algorithms=doc["id_token_signing_alg_values_supported"],
        audience=provider.client_id,
        issuer=doc["issuer"],
    )
    assert (id_claims["nonce"], id_claims["preferred_username"], id_claims["email"]) == (
        "n-123",
        USERNAME,
        "ada@example.com",
    )
    access = jwt.decode(
        token["access_token"],
        keys.get_signing_key_from_jwt(token["access_token"]).key,
        algorithms=["ES256"],
        audience=f"{provider.base}/api",
        options={"verify_aud": True},
    )
    assert access["sub"] == id_claims["sub"] and access["client_id"] == provider.client_id

    info = client.get(doc["userinfo_endpoint"], timeout=TIMEOUT)
    assert info.status_code == 200
    assert info.json()["sub"] == id_claims["sub"] and info.json()["preferred_username"] == USERNAME

    old_refresh = token["refresh_token"]
    renewed = client.refresh_token(doc["token_endpoint"], refresh_token=old_refresh)
    assert renewed["refresh_token"] != old_refresh
    # reuse of the rotated token: refused, and the family (the newest token too) is revoked
    replay = requests.post(
        doc["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": old_refresh},
        auth=(provider.client_id, provider.client_secret),
        timeout=TIMEOUT,
    )
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    after = requests.post(
        doc["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]},
        auth=(provider.client_id, provider.client_secret),
        timeout=TIMEOUT,
    )
    assert after.json()["error"] == "invalid_grant"

    # the browser stays signed in: a second authorization needs no form
    again_url, _ = session_for(provider).create_authorization_url(
        doc["authorization_endpoint"], code_verifier=verifier, prompt="none"
    )
    silent = browser.get(again_url, allow_redirects=False, timeout=TIMEOUT)
    assert silent.status_code == 303 and "code=" in silent.headers["location"]


def test_a_wrong_password_is_one_neutral_message_and_no_session(provider: Provider) -> None:
    url, _ = session_for(provider).create_authorization_url(
        provider.document["authorization_endpoint"], code_verifier="w" * 50
    )
    browser = requests.Session()
    answer = sign_in(browser, provider, url, password="wrong password!")
    assert answer.status_code == 200
    assert "Invalid username or password." in answer.text
    assert "pforte_session" not in browser.cookies.get_dict()
