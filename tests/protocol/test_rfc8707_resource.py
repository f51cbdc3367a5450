"""RFC 8707 resource indicators at ``/token``: only registered audiences.

The one registered resource today is the platform API, ``{PFORTE_PUBLIC_URL}/api`` — the
default ``aud`` too. "If the requested resource is invalid, missing, unknown, or malformed" the
answer is ``invalid_target`` (§2): an unknown URI, a relative one, one with a fragment, or more
than one ``resource`` (a token has one audience here). Nothing is issued and nothing stored.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.protocol.oauth import (
    ADMIN,
    AUDIENCE,
    FORM,
    Scene,
    assert_invalid_client,
    assert_json,
    assert_oauth_error,
    basic_auth,
    decode_segment,
    issuer,
    unchanged,
)

pytestmark = pytest.mark.anyio

GRANT = {"grant_type": "client_credentials"}


@pytest.mark.parametrize("auth", ["basic", "post"])
async def test_the_platform_api_is_a_registered_resource(scene: Scene, auth: str) -> None:
    response = await scene.svc.post("token", {**GRANT, "resource": AUDIENCE}, auth=auth)
    token = assert_json(response, 200)["access_token"]
    assert decode_segment(token, 1)["aud"] == AUDIENCE
    # ... and the token opens the platform API, as one without resource does.
    listed = await scene.svc.http.get(
        f"{ADMIN}/{scene.svc.tenant}/clients", headers={"Authorization": f"Bearer {token}"}
    )
    assert listed.status_code == 200, listed.text


async def test_without_resource_the_audience_is_the_platform_api(scene: Scene) -> None:
    token = await scene.svc.access_token()
    assert decode_segment(token, 1)["aud"] == AUDIENCE


@pytest.mark.parametrize(
    ("resource", "description"),
    [
        ("https://api.example.com/", "the resource is not known to this server"),
        ("https://evil.example.com/api", "the resource is not known to this server"),
        (AUDIENCE + "/", "the resource is not known to this server"),
        (AUDIENCE + "/users", "the resource is not known to this server"),
        (AUDIENCE.upper(), "the resource is not known to this server"),
        (AUDIENCE + "?x=1", "the resource is not known to this server"),
        ("http://127.0.0.1:8000", "the resource is not known to this server"),
        ("urn:example:orders", "the resource is not known to this server"),
        ("ISSUER", "the resource is not known to this server"),
        ("/api", "resource must be an absolute URI"),
        ("api", "resource must be an absolute URI"),
        ("//127.0.0.1:8000/api", "resource must be an absolute URI"),
        (AUDIENCE + "#x", "resource must not contain a fragment"),
        (AUDIENCE + "#", "resource must not contain a fragment"),
    ],
    ids=[
        "other-api",
        "other-host",
        "trailing-slash",
        "sub-path",
        "upper-case",
        "query",
        "origin-only",
        "urn",
        "issuer",
        "relative-path",
        "relative-name",
        "network-path",
        "fragment",
        "empty-fragment",
    ],
)
@pytest.mark.parametrize("auth", ["basic", "post"])
async def test_any_other_resource_is_invalid_target(
    scene: Scene, auth: str, resource: str, description: str
) -> None:
    resource = issuer(scene.svc.tenant) if resource == "ISSUER" else resource
    async with unchanged(scene.ctx):
        response = await scene.svc.post("token", {**GRANT, "resource": resource}, auth=auth)
    assert assert_oauth_error(response, 400, "invalid_target") == description


@pytest.mark.parametrize(
    "resources",
    [
        [AUDIENCE, AUDIENCE],
        [AUDIENCE, "https://api.example.com/"],
        ["https://a.example/", "https://b.example/"],
    ],
    ids=["same-twice", "known-and-unknown", "two-unknown"],
)
async def test_more_than_one_resource_is_invalid_target(scene: Scene, resources: list[str]) -> None:
    app = scene.svc
    form = [("grant_type", "client_credentials"), *(("resource", r) for r in resources)]
    headers = {**FORM, **basic_auth(app.client_id, app.secret)}
    async with unchanged(scene.ctx):
        response = await app.http.post(app.url("token"), content=urlencode(form), headers=headers)
    assert assert_oauth_error(response, 400, "invalid_target") == "ask for one resource per token request"


async def test_an_unknown_resource_does_not_hide_a_failed_authentication(scene: Scene) -> None:
    """The client authenticates first: a wrong secret is invalid_client whatever the resource."""
    app = scene.svc
    headers = {**FORM, **basic_auth(app.client_id, app.secret + "x")}
    form = {**GRANT, "resource": "https://api.example.com/"}
    async with unchanged(scene.ctx):
        response = await app.http.post(app.url("token"), data=form, headers=headers)
    assert_invalid_client(response, basic=True)


async def test_a_repeated_resource_elsewhere_is_still_invalid_request(scene: Scene) -> None:
    """``resource`` means something only at the token endpoint; at introspection a repeated
    parameter is the usual invalid_request (RFC 6749 §3.1)."""
    app = scene.svc
    token = await app.access_token()
    headers = {**FORM, **basic_auth(app.client_id, app.secret)}
    body = f"token={token}&resource=a&resource=b".encode()
    async with unchanged(scene.ctx):
        response = await app.http.post(app.url("introspect"), content=body, headers=headers)
    assert assert_oauth_error(response, 400, "invalid_request") == "the parameter resource is repeated"
