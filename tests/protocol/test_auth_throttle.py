"""Abuse resistance at the form endpoints: failed client authentication for one client id is
slowed down, then answered 429 with ``Retry-After`` (RFC 6585 §4) — the right secret too, while
the block lasts — without touching other clients (services/throttle.py does the counting)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from pforte.app import create_app
from pforte.domain.clients import ClientSpec
from pforte.services import clients as client_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.services.throttle import BLOCK_MAX
from pforte.settings import Settings
from tests.conftest import clear_of_window_edge, make_tenant, snapshot

pytestmark = pytest.mark.anyio

# Answered at once: 2; slowed: 2 (0.1 s, 0.2 s); then 429. An hour's window keeps the sliding
# window counter's estimate from decaying between the hits, so the fifth failure is the one
# refused; the test starts a minute clear of the window's edge, which a slow database's snapshot
# between the hits cannot use up (a 60 s window with 2 s to spare once failed on a loaded CI).
LIMIT, WINDOW, CLEAR = 4, 3600, 60.0


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[tuple[Context, httpx.AsyncClient]]:
    ctx = Context.create(
        settings.model_copy(update={"auth_failure_limit": LIMIT, "auth_failure_window": WINDOW})
    )
    transport = httpx.ASGITransport(app=create_app(ctx.settings, ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        yield ctx, http
    await ctx.db.dispose()


async def new_secret(ctx: Context, tenant: str, client_id: str) -> str:
    _, secret = await client_service.create_client(
        ctx, SYSTEM_PRINCIPAL, tenant, ClientSpec(client_id=client_id)
    )
    assert secret is not None
    return secret.value


async def token(http: httpx.AsyncClient, tenant: str, client_id: str, secret: str) -> httpx.Response:
    return await http.post(
        f"/t/{tenant}/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )


async def test_failures_are_slowed_then_429_even_for_the_right_secret(
    strict: tuple[Context, httpx.AsyncClient],
) -> None:
    ctx, http = strict
    tenant = await make_tenant(ctx)
    secret = await new_secret(ctx, tenant, "svc")
    other = await new_secret(ctx, tenant, "bystander")
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    took = []
    await clear_of_window_edge(WINDOW, need=CLEAR)
    for _ in range(LIMIT):
        started = time.monotonic()
        response = await token(http, tenant, "svc", wrong)
        took.append(time.monotonic() - started)
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
    assert took[2] >= 0.1 and took[3] >= 0.2  # the third and fourth failures were held back

    before = await snapshot(ctx)
    over = await token(http, tenant, "svc", wrong)
    assert over.status_code == 429, over.text
    assert over.json()["error"] == "temporarily_unavailable"
    assert over.headers["cache-control"] == "no-store"
    retry_after = int(over.headers["retry-after"])
    assert 1 <= retry_after <= BLOCK_MAX
    blocked = await token(http, tenant, "svc", secret)  # the right secret waits out the block too
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= BLOCK_MAX
    introspect = await http.post(f"/t/{tenant}/introspect", data={"token": "x"}, auth=("svc", secret))
    assert introspect.status_code == 429  # every form endpoint shares the count
    assert (await token(http, tenant, "bystander", other)).status_code == 200
    assert await snapshot(ctx) == before

    # When the block has run out (asked with a clock moved past it), the right secret works again.
    assert ctx.throttle.blocked(tenant, "svc", now=time.monotonic() + retry_after + 0.1) is None
    assert (await token(http, tenant, "svc", secret)).status_code == 200
