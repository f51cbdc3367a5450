"""People sign in to an application: the authorization code flow end to end against a real
``pforte serve``, driven by Authlib's ``OAuth2Session`` as a web application would run it.

The endpoints come from discovery; the tenant and the application from the admin API; the user
from ``pforte users create``; the browser's part (the sign-in form) is plain HTTP against the
real HTML page. The ID token and access token are verified with PyJWT's ``PyJWKClient``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.e2e.apps import BackChannel, admin_http, create_client, create_tenant, create_user, filled_form
from tests.e2e.conftest import Server, base_env, start

pytestmark = pytest.mark.e2e

SLUG = "shop"
REDIRECT = "https://shop.example.com/callback"
BYE = "https://shop.example.com/bye"
USERNAME, PASSWORD = "Ada", "a long enough password"
TIMEOUT = 10


@dataclass(frozen=True, slots=True)
class Provider:
    base: str
    document: dict[str, Any]
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def receiver() -> Iterator[BackChannel]:
    """The application's back-channel logout endpoint."""
    with BackChannel() as channel:
        yield channel


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of this module's own: loopback allowed for outbound calls (the receiver)."""
    workdir = tmp_path_factory.mktemp("sign-in")
    running = start(workdir, base_env(workdir, PFORTE_OUTBOUND_ALLOW="127.0.0.1/32"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def provider(server: Server, receiver: BackChannel) -> Provider:
    with admin_http(server) as admin:
        create_tenant(admin, SLUG, "Shop GmbH")
        secret = create_client(
            admin,
            SLUG,
            "shop-web",
            clientName="Shop",
            allowedGrantTypes=["authorization_code", "refresh_token"],
            allowedScopes=["openid", "profile", "email"],
            redirectUris=[REDIRECT],
            postLogoutRedirectUris=[BYE],
            allowOfflineAccess=True,
            requireConsent=True,
            backChannelLogoutUri=receiver.url,
        )
    assert secret is not None
    create_user(server, SLUG, USERNAME, PASSWORD, email="ada@example.com")
    document = requests.get(f"{server.url}/t/{SLUG}/.well-known/openid-configuration", timeout=TIMEOUT).json()
    return Provider(server.url, document, "shop-web", secret)


def submit(
    browser: requests.Session, provider: Provider, page: requests.Response, **values: str
) -> requests.Response:
    """Fill in the page's form and submit it, as a browser does."""
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    action, fields = filled_form(page.text, **values)
    return browser.post(provider.base + action, data=fields, allow_redirects=False, timeout=TIMEOUT)


def sign_in(
    browser: requests.Session, provider: Provider, url: str, password: str = PASSWORD
) -> requests.Response:
    """The user's part: open the authorization URL, fill in the form, submit it."""
    return submit(browser, provider, browser.get(url, timeout=TIMEOUT), username=USERNAME, password=password)


def session_for(provider: Provider) -> OAuth2Session:
    return OAuth2Session(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope="openid profile email",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )


def test_authlib_runs_the_whole_flow(provider: Provider, receiver: BackChannel) -> None:
    doc = provider.document
    client = session_for(provider)
    verifier = "v" * 20 + "erifier-" + "x" * 30
    url, state = client.create_authorization_url(
        doc["authorization_endpoint"], code_verifier=verifier, nonce="n-123"
    )
    assert create_s256_code_challenge(verifier) in url
    browser = requests.Session()
    consent = sign_in(browser, provider, url)
    assert "wants to access your account" in consent.text
    answer = submit(browser, provider, consent, decision="allow", remember="yes")
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
    assert silent.status_code == 303 and "code=" in silent.headers["location"]  # consent remembered

    # RP-initiated logout with the ID token of this session: at once, back to the application
    bye = browser.get(
        doc["end_session_endpoint"],
        params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": BYE, "state": "bye-1"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert (bye.status_code, bye.headers["location"]) == (303, f"{BYE}?state=bye-1")
    # ... and the application's back-channel endpoint hears of it, with the session's sid
    assert receiver.arrived.wait(10)
    logout = jwt.decode(
        receiver.tokens[0],
        keys.get_signing_key_from_jwt(receiver.tokens[0]).key,
        algorithms=["ES256"],
        audience=provider.client_id,
        issuer=doc["issuer"],
    )
    assert (logout["sub"], logout["sid"]) == (id_claims["sub"], id_claims["sid"])
    assert jwt.get_unverified_header(receiver.tokens[0])["typ"] == "logout+jwt"
    after = browser.get(again_url, allow_redirects=False, timeout=TIMEOUT)
    assert "error=login_required" in after.headers["location"]


def test_a_wrong_password_is_one_neutral_message_and_no_session(provider: Provider) -> None:
    url, _ = session_for(provider).create_authorization_url(
        provider.document["authorization_endpoint"], code_verifier="w" * 50
    )
    browser = requests.Session()
    answer = sign_in(browser, provider, url, password="wrong password!")
    assert answer.status_code == 200
    assert "Invalid username or password." in answer.text
    assert "pforte_session" not in browser.cookies.get_dict()
