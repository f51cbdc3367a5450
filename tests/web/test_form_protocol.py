"""``FormProtocol`` (web/form_protocol.py) in a real uvicorn server in this process: a token
request without an ``Origin`` is answered by the protocol itself — uvicorn's ASGI ``send`` is
never called for it — while one with an ``Origin``, and every other request, goes through the
ASGI app. The wire behaviour is in tests/e2e/test_form_protocol.py."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from pforte.app import create_app
from pforte.domain.clients import ClientSpec
from pforte.services import clients as client_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.web.form_protocol import FormProtocol, forms_behind
from pforte.web.protocol.form_dispatch import FormDispatch
from tests.conftest import make_tenant

pytestmark = pytest.mark.anyio


def test_the_hook_is_uvicorns() -> None:
    assert callable(getattr(HttpToolsProtocol, "_start_asgi_task", None))
    assert "_start_asgi_task" in FormProtocol.__dict__


async def test_only_the_app_stack_create_app_builds_is_served_directly(ctx: Context) -> None:
    app = create_app(ctx.settings, ctx)
    assert isinstance(forms_behind(app), FormDispatch)
    assert forms_behind(getattr(app, "app", None)) is None  # the dispatcher alone: no
    assert forms_behind(object()) is None


@contextlib.asynccontextmanager
async def serving(ctx: Context) -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(ctx.settings, ctx),
        host="127.0.0.1",
        port=port,
        http=FormProtocol,
        log_level="warning",
        lifespan="off",
        proxy_headers=False,  # as pforte.server runs it: the app unwrapped
        server_header=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn says it has started by a flag only
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_a_request_without_origin_skips_asgi_send(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await make_tenant(ctx)
    _, secret = await client_service.create_client(
        ctx, SYSTEM_PRINCIPAL, tenant, ClientSpec(client_id="svc", allowed_grant_types=["client_credentials"])
    )
    assert secret is not None
    sent: list[str] = []
    original = RequestResponseCycle.send

    async def counting(self: RequestResponseCycle, message: Any) -> None:
        sent.append(message["type"])
        await original(self, message)

    monkeypatch.setattr(RequestResponseCycle, "send", counting)
    auth = ("svc", secret.value)
    form = {"grant_type": "client_credentials"}
    async with serving(ctx) as base, httpx.AsyncClient(base_url=base) as http:
        direct = await http.post(f"/t/{tenant}/token", data=form, auth=auth)
        assert direct.status_code == 200, direct.text
        assert sent == []
        cors = await http.post(
            f"/t/{tenant}/token", data=form, auth=auth, headers={"Origin": "https://a.example"}
        )
        assert cors.status_code == 200
        assert cors.headers["vary"] == "Origin"
        assert sent == ["http.response.start", "http.response.body"]
        sent.clear()
        live = await http.get("/health/live")
        assert live.status_code == 200
        assert sent == ["http.response.start", "http.response.body"]
    assert list(direct.headers.keys()) == [k for k in cors.headers if k != "vary"]
    assert direct.json()["token_type"] == cors.json()["token_type"] == "Bearer"
