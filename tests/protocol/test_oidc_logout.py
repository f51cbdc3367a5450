"""OpenID Connect RP-Initiated Logout 1.0 and Back-Channel Logout 1.0 over HTTP, with a real
receiver on loopback for the logout tokens (allowed by the outbound policy)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar
from urllib.parse import parse_qs

import anyio
import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from pforte.app import create_app
from pforte.domain.outbound import OutboundPolicy
from pforte.services import users as user_service
from pforte.services.backchannel import BackChannel
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from tests.protocol.flow import App, form_of, make_app, query_of

pytestmark = pytest.mark.anyio
BYE = "https://app.example.com/bye"


class Receiver(BaseHTTPRequestHandler):
    tokens: ClassVar[list[str]]
    arrived: ClassVar[threading.Event]

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        type(self).tokens.append(form["logout_token"][0])
        type(self).arrived.set()
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[str], threading.Event]]:
    tokens: list[str] = []
    arrived = threading.Event()
    handler = type("Handler", (Receiver,), {"tokens": tokens, "arrived": arrived})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/backchannel", tokens, arrived
    server.shutdown()
    server.server_close()


@pytest.fixture
def local(ctx: Context) -> Context:
    """The context with loopback allowed for outbound calls (PFORTE_OUTBOUND_ALLOW=127.0.0.1/32)."""
    return dataclasses.replace(
        ctx, backchannel=BackChannel(OutboundPolicy.parse("127.0.0.1/32"), backoff=(0.1,))
    )


@pytest.fixture
async def allowed(local: Context) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(local.settings, local))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def signed_in(http: httpx.AsyncClient, app: App) -> dict[str, str]:
    code, _ = await app.code(http)
    answer = await app.exchange(http, code)
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


async def silent(http: httpx.AsyncClient, app: App) -> str:
    answer = await http.get(f"{app.base}/authorize", params=app.authorize_params(prompt="none"))
    return query_of(answer.headers["location"]).get("error", "code")


async def test_an_id_token_of_the_session_signs_out_at_once_and_returns_with_state(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(
        ctx,
        tenant,
        post_logout_redirect_uris=[BYE],
        allowed_grant_types=["authorization_code", "refresh_token"],
        allow_offline_access=True,
    )
    tokens = await signed_in(client, app)
    assert await silent(client, app) == "code"
    answer = await client.get(
        f"{app.base}/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": BYE, "state": "s-1"},
    )
    assert (answer.status_code, answer.headers["location"]) == (303, f"{BYE}?state=s-1")
    assert "pforte_session=" in answer.headers["set-cookie"] and "Max-Age=0" in answer.headers["set-cookie"]
    assert await silent(client, app) == "login_required"
    # the session's refresh tokens end with it
    refreshed = await client.post(
        f"{app.base}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(app.client_id, app.secret or ""),
    )
    assert refreshed.json()["error"] == "invalid_grant"


async def test_without_a_hint_the_user_confirms(client: httpx.AsyncClient, ctx: Context, tenant: str) -> None:
    app = await make_app(ctx, tenant)
    await signed_in(client, app)
    page = await client.get(f"{app.base}/logout")
    assert page.status_code == 200 and "Sign out?" in page.text
    assert await silent(client, app) == "code"  # a link alone signs no one out
    action, fields = form_of(page.text)
    done = await client.post(action, data={**fields, "decision": "logout"})
    assert done.status_code == 200 and "You are signed out" in done.text
    assert await silent(client, app) == "login_required"


async def test_an_unregistered_post_logout_uri_is_a_page_and_nothing_ends(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, post_logout_redirect_uris=[BYE])
    tokens = await signed_in(client, app)
    for params in (
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example.com/"},
        {"client_id": app.client_id, "post_logout_redirect_uri": BYE + "/more"},
        {"post_logout_redirect_uri": BYE},  # no client named
        {"id_token_hint": "not.a.token"},
        {"id_token_hint": tokens["id_token"], "client_id": "someone-else"},
    ):
        answer = await client.get(f"{app.base}/logout", params=params)
        assert answer.status_code == 400, params
        assert "location" not in answer.headers
    assert await silent(client, app) == "code"


async def test_back_channel_logout_tokens_reach_the_clients_of_the_session(
    allowed: httpx.AsyncClient, ctx: Context, tenant: str, receiver: tuple[str, list[str], threading.Event]
) -> None:
    uri, received, arrived = receiver
    app = await make_app(ctx, tenant, back_channel_logout_uri=uri)
    tokens = await signed_in(allowed, app)
    id_claims = dict(
        jwt.decode(
            tokens["id_token"], KeySet.import_key_set((await allowed.get(f"{app.base}/jwks")).json())
        ).claims
    )
    answer = await allowed.get(f"{app.base}/logout", params={"id_token_hint": tokens["id_token"]})
    assert answer.status_code == 200 and "You are signed out" in answer.text
    assert await anyio.to_thread.run_sync(arrived.wait, 5)
    keys = KeySet.import_key_set((await allowed.get(f"{app.base}/jwks")).json())
    decoded = jwt.decode(received[0], keys)
    assert decoded.header["typ"] == "logout+jwt"
    claims = decoded.claims
    assert (claims["aud"], claims["sub"], claims["sid"]) == (
        app.client_id,
        str(app.user_id),
        id_claims["sid"],
    )
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert "nonce" not in claims and claims["exp"] - claims["iat"] == 120


async def test_no_logout_token_goes_to_an_address_the_operator_did_not_allow(
    client: httpx.AsyncClient, ctx: Context, tenant: str, receiver: tuple[str, list[str], threading.Event]
) -> None:
    uri, received, _ = receiver
    app = await make_app(ctx, tenant, back_channel_logout_uri=uri)
    tokens = await signed_in(client, app)
    answer = await client.get(f"{app.base}/logout", params={"id_token_hint": tokens["id_token"]})
    assert answer.status_code == 200
    await anyio.sleep(0.5)
    assert received == []


@pytest.mark.parametrize("end", ["disable", "delete"])
async def test_disabling_or_deleting_a_user_sends_back_channel_logout(
    allowed: httpx.AsyncClient,
    local: Context,
    tenant: str,
    receiver: tuple[str, list[str], threading.Event],
    end: str,
) -> None:
    uri, received, arrived = receiver
    app = await make_app(local, tenant, back_channel_logout_uri=uri)
    await signed_in(allowed, app)
    if end == "disable":
        change = user_service.UserChange(enabled=False)
        await user_service.update_user(local, SYSTEM_PRINCIPAL, tenant, app.username, change)
    else:
        await user_service.delete_user(local, SYSTEM_PRINCIPAL, tenant, app.username)
    assert await anyio.to_thread.run_sync(arrived.wait, 5)
    keys = KeySet.import_key_set((await allowed.get(f"{app.base}/jwks")).json())
    claims = jwt.decode(received[0], keys).claims
    assert (claims["aud"], claims["sub"]) == (app.client_id, str(app.user_id))
