"""Hostile text at the protocol endpoints (CONVENTIONS.md §4: validate text at the edge).

PostgreSQL refuses NUL in text, SQLite stores it: a C0 control character or DEL is refused
before any look-up, with the same answer on both databases, and the database is left as it was.

- In the form of ``/token``, ``/introspect`` and ``/revoke`` (any parameter, ``client_id``
  included): 400 ``invalid_request`` — the request is malformed (RFC 6749 §5.2), whatever
  authentication it tries; nothing is counted against the client id.
- In HTTP Basic credentials: 401 ``invalid_client`` with ``WWW-Authenticate: Basic``.
- In the tenant slug of discovery, JWKS and the form endpoints: 404, the usual "no such tenant".
"""

from __future__ import annotations

import base64

import httpx
import pytest

from pforte.services.context import Context
from tests.protocol.oauth import (
    FORM,
    App,
    Scene,
    assert_invalid_client,
    assert_json,
    assert_oauth_error,
    basic_auth,
    unchanged,
)

pytestmark = pytest.mark.anyio

CONTROLS = ["\x00", "\x01", "\t", "\r", "\x1f", "\x7f"]
CONTROL_IDS = ["nul", "soh", "tab", "cr", "us", "del"]
ENDPOINTS = ["token", "introspect", "revoke"]
NO_SUCH_TENANT = {"error": "not_found", "error_description": "no such tenant"}


def raw_basic(raw: bytes) -> dict[str, str]:
    """A Basic header over exactly ``raw`` (no form-encoding of its own)."""
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def endpoint_form(endpoint: str, **extra: str) -> dict[str, str]:
    base = {"grant_type": "client_credentials"} if endpoint == "token" else {"token": "pfk_whatever"}
    return {**base, **extra}


# --- the form --------------------------------------------------------------------------------


@pytest.mark.parametrize("control", CONTROLS, ids=CONTROL_IDS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_control_character_in_the_posted_client_id_is_invalid_request(
    scene: Scene, endpoint: str, control: str
) -> None:
    """``client_id=bc%00`` with ``client_secret_post``: a malformed request, not a failed
    authentication — answered before the client is looked up."""
    app = scene.svc
    form = endpoint_form(endpoint, client_id=f"bc{control}", client_secret=app.secret)
    async with unchanged(scene.ctx):
        response = await app.http.post(app.url(endpoint), data=form, headers=FORM)
    description = assert_oauth_error(response, 400, "invalid_request")
    assert description == "the parameter client_id contains a control character"
    assert "www-authenticate" not in response.headers


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_control_character_in_the_client_id_of_a_basic_request_is_invalid_request(
    scene: Scene, endpoint: str
) -> None:
    """The form's ``client_id`` next to Basic credentials is checked by the form parser too."""
    app = scene.svc
    form = endpoint_form(endpoint, client_id="svc\x00")
    headers = {**FORM, **basic_auth(app.client_id, app.secret)}
    async with unchanged(scene.ctx):
        response = await app.http.post(app.url(endpoint), data=form, headers=headers)
    assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    ("endpoint", "name"),
    [
        ("token", "grant_type"),
        ("token", "scope"),
        ("token", "resource"),
        ("token", "client_secret"),
        ("introspect", "token"),
        ("introspect", "token_type_hint"),
        ("revoke", "token"),
        ("revoke", "token_type_hint"),
    ],
)
async def test_a_control_character_in_any_parameter_is_invalid_request(
    scene: Scene, endpoint: str, name: str
) -> None:
    app = scene.svc
    form = {**endpoint_form(endpoint), "client_id": app.client_id, "client_secret": app.secret}
    form[name] = "x\x00y"
    async with unchanged(scene.ctx):
        response = await app.http.post(app.url(endpoint), data=form, headers=FORM)
    assert assert_oauth_error(response, 400, "invalid_request") == (
        f"the parameter {name} contains a control character"
    )


async def test_a_raw_control_character_in_the_body_is_invalid_request(scene: Scene) -> None:
    """Not percent-encoded: the parser's fast path sees it as it is."""
    app = scene.svc
    body = f"grant_type=client_credentials&client_id=svc\x01&client_secret={app.secret}".encode()
    async with unchanged(scene.ctx):
        response = await app.http.post(app.url("token"), content=body, headers=FORM)
    assert_oauth_error(response, 400, "invalid_request")


async def test_a_control_character_in_a_parameter_name_is_invalid_request(scene: Scene) -> None:
    app = scene.svc
    body = b"grant_type=client_credentials&sc%00pe=x"
    headers = {**FORM, **basic_auth(app.client_id, app.secret)}
    async with unchanged(scene.ctx):
        response = await app.http.post(app.url("token"), content=body, headers=headers)
    # The name is not echoed: it is not plain ASCII.
    assert assert_oauth_error(response, 400, "invalid_request") == "a parameter contains a control character"


async def test_a_repeated_parameter_with_a_non_ascii_name_is_invalid_request(scene: Scene) -> None:
    """The description stays RFC 6749 ASCII: a name that is not is not repeated back."""
    app = scene.svc
    body = b"grant_type=client_credentials&sc%C3%B6pe=a&sc%C3%B6pe=b"
    headers = {**FORM, **basic_auth(app.client_id, app.secret)}
    async with unchanged(scene.ctx):
        response = await app.http.post(app.url("token"), content=body, headers=headers)
    assert assert_oauth_error(response, 400, "invalid_request") == "a parameter is repeated"


async def test_refused_control_characters_are_not_counted_as_failed_authentication(scene: Scene) -> None:
    """A malformed request never reaches client authentication, so it does not feed the throttle:
    the client still gets its token afterwards, however many were refused."""
    app = scene.svc
    form = {"grant_type": "client_credentials", "client_id": "svc\x00", "client_secret": "x"}
    for _ in range(30):
        response = await app.http.post(app.url("token"), data=form, headers=FORM)
        assert_oauth_error(response, 400, "invalid_request")
    assert_json(await app.post("token", {"grant_type": "client_credentials"}), 200)


# --- HTTP Basic ------------------------------------------------------------------------------


@pytest.mark.parametrize("control", CONTROLS, ids=CONTROL_IDS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_control_character_in_the_basic_client_id_is_invalid_client(
    scene: Scene, endpoint: str, control: str
) -> None:
    """Form-encoded inside the credentials (``bc%00``), as RFC 6749 §2.3.1 has it."""
    app = scene.svc
    headers = {**FORM, **basic_auth(f"bc{control}", app.secret)}
    async with unchanged(scene.ctx):
        response = await app.http.post(app.url(endpoint), data=endpoint_form(endpoint), headers=headers)
    assert_invalid_client(response, basic=True)
    assert response.json()["error_description"] == "malformed Basic credentials"


@pytest.mark.parametrize(
    "raw",
    [b"svc\x00:secret", b"svc:sec\x00ret", b"svc:secret\x7f", b"\x1b:x", b"svc%00:x", b"svc:x%0A"],
    ids=[
        "raw-nul-id",
        "raw-nul-secret",
        "raw-del-secret",
        "raw-esc-id",
        "encoded-nul-id",
        "encoded-lf-secret",
    ],
)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_control_character_anywhere_in_basic_credentials_is_invalid_client(
    scene: Scene, endpoint: str, raw: bytes
) -> None:
    app = scene.svc
    headers = {**FORM, **raw_basic(raw)}
    async with unchanged(scene.ctx):
        response = await app.http.post(app.url(endpoint), data=endpoint_form(endpoint), headers=headers)
    assert_invalid_client(response, basic=True)


async def test_the_right_secret_behind_a_control_character_in_the_id_still_fails(
    client: httpx.AsyncClient, ctx: Context, scene: Scene
) -> None:
    """``svc\\x00`` is not ``svc``: no truncation at NUL anywhere."""
    app: App = scene.svc
    headers = {**FORM, **basic_auth("svc\x00", app.secret)}
    async with unchanged(ctx):
        response = await client.post(app.url("token"), data=endpoint_form("token"), headers=headers)
    assert_invalid_client(response, basic=True)


# --- the tenant in the path ------------------------------------------------------------------

HOSTILE_SLUGS = ["bad%00in", "system%00", "acme%01", "acme%7F", "acme%0A"]


@pytest.mark.parametrize("slug", HOSTILE_SLUGS)
@pytest.mark.parametrize(
    "path",
    [
        "/t/{slug}/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/t/{slug}",
        "/t/{slug}/jwks",
    ],
    ids=["openid-configuration", "rfc8414", "jwks"],
)
async def test_a_control_character_in_the_slug_of_a_public_document_is_not_found(
    client: httpx.AsyncClient, ctx: Context, path: str, slug: str
) -> None:
    async with unchanged(ctx):
        response = await client.get(path.format(slug=slug))
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == NO_SUCH_TENANT


@pytest.mark.parametrize("slug", HOSTILE_SLUGS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_control_character_in_the_slug_of_a_form_endpoint_is_not_found(
    scene: Scene, endpoint: str, slug: str
) -> None:
    app = scene.svc
    headers = {**FORM, **basic_auth(app.client_id, app.secret)}
    async with unchanged(scene.ctx):
        response = await app.http.post(f"/t/{slug}/{endpoint}", data=endpoint_form(endpoint), headers=headers)
    assert assert_json(response, 404) == NO_SUCH_TENANT
