"""Operators' endpoints in process, on SQLite and PostgreSQL: ``/health/live``,
``/health/ready`` (and ``/healthz``), and ``/metrics`` behind ``PFORTE_METRICS_TOKEN``.
A real ``pforte serve`` (one worker and two) is in tests/e2e/test_operations.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from pforte.app import create_app
from pforte.services import feed
from pforte.services.bootstrap import initialise
from pforte.services.context import Context
from pforte.settings import Settings
from pforte.store.revision import code_revisions
from tests.conftest import FAST_PASSWORDS, PUBLIC_URL, SECRET_KEY, Database
from tests.e2e.conftest import free_port

HEAD = code_revisions().head  # the code's newest migration
pytestmark = pytest.mark.anyio

METRICS_TOKEN = "metrics-token-0123456789-abcdef"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}
READY = {"database": "ok", "migrations": "ok", "feed": "ok"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def settings_for(url: str, **extra: Any) -> Settings:
    return Settings(
        database_url=url, secret_key=SECRET_KEY, public_url=PUBLIC_URL, **{**FAST_PASSWORDS, **extra}
    )


@contextlib.asynccontextmanager
async def serving(settings: Settings, *, with_feed: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """The app on ``settings`` with its change feed running (as its lifespan would run it)."""
    ctx = Context.create(settings)
    app = create_app(settings, ctx)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if with_feed:
                await stack.enter_async_context(feed.running(ctx))
                await listening(ctx)
            transport = httpx.ASGITransport(app=app)
            yield await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://t"))
    finally:
        await ctx.db.dispose()


async def listening(ctx: Context, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if ctx.feed.listening:
            return
        await asyncio.sleep(0.05)
    pytest.fail("the change feed did not start listening")


def samples(exposition: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def assert_ready(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": READY}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"


def assert_unavailable(response: httpx.Response, **failed: str) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"status": "unavailable", "checks": {**READY, **failed}}
    assert response.headers["cache-control"] == "no-store"


# health ---------------------------------------------------------------------------------------


async def test_live_answers_while_the_process_serves(settings: Settings) -> None:
    async with serving(settings, with_feed=False) as http:
        response = await http.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_ready_on_a_migrated_database_with_the_feed_listening(settings: Settings) -> None:
    async with serving(settings) as http:
        assert_ready(await http.get("/health/ready"))
        head = await http.head("/health/ready")
        assert head.status_code == 200
        healthz = await http.get("/healthz")
        assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})


async def test_not_ready_while_the_feed_is_not_listening(settings: Settings) -> None:
    """Without its change feed a process would serve stale clients: it is not ready. The older
    /healthz asks only the database."""
    async with serving(settings, with_feed=False) as http:
        assert_unavailable(await http.get("/health/ready"), feed="not listening")
        assert (await http.get("/healthz")).status_code == 200


async def test_not_ready_when_the_database_is_behind_the_code(empty_database_url: str) -> None:
    settings = settings_for(empty_database_url)
    ctx = Context.create(settings)
    try:
        assert await initialise(ctx) is not None  # migrated to the head, as `pforte serve` does
        async with ctx.db.transaction() as session:
            await session.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    finally:
        await ctx.db.dispose()
    async with serving(settings) as http:
        assert_unavailable(await http.get("/health/ready"), migrations=f"behind: db 0006, code {HEAD}")
    ctx = Context.create(settings)
    try:
        async with ctx.db.transaction() as session:
            await session.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    finally:
        await ctx.db.dispose()
    async with serving(settings) as http:
        assert_unavailable(
            await http.get("/health/ready"),
            migrations=f"ahead: db 0099 is unknown to this code (head {HEAD})",
        )


async def test_not_ready_when_the_database_is_unreachable() -> None:
    """Nothing listens on the port: each check says so, and the answer names no host or port."""
    port = free_port()
    settings = settings_for(f"postgresql+asyncpg://pforte:s3cret@127.0.0.1:{port}/pforte")
    async with serving(settings, with_feed=False) as http:
        response = await http.get("/health/ready")
        assert_unavailable(
            response,
            database="unreachable",
            migrations="unknown: the database is unreachable",
            feed="not listening",
        )
        for leak in (str(port), "127.0.0.1", "s3cret", "pforte:"):
            assert leak not in response.text
        healthz = await http.get("/healthz")
        assert (healthz.status_code, healthz.json()) == (503, {"status": "unavailable"})
        assert (await http.get("/health/live")).status_code == 200


# metrics --------------------------------------------------------------------------------------


async def test_metrics_do_not_exist_without_the_token(settings: Settings) -> None:
    async with serving(settings, with_feed=False) as http:
        metrics = await http.get("/metrics", headers=SCRAPE)
        unknown = await http.get("/no-such-path")
    assert metrics.status_code == 404
    assert metrics.headers["content-type"] == unknown.headers["content-type"]
    assert metrics.json()["type"] == unknown.json()["type"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-0123456789", f"Bearer {METRICS_TOKEN}x", f"Basic {METRICS_TOKEN}", "Bearer"],
)
async def test_metrics_refuse_a_scrape_without_the_token(
    database: Database, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with serving(settings_for(database.url, metrics_token=METRICS_TOKEN), with_feed=False) as http:
        response = await http.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "pforte_" not in response.text


async def test_metrics_count_token_requests_by_route_template(database: Database) -> None:
    """N tokens issued: the grant's counter and the token route's counter grow by exactly N; a
    refused request counts under its status and issues nothing; raw paths never become labels."""
    credentials = (database.bootstrap.client_id, database.bootstrap.client_secret)
    async with serving(settings_for(database.url, metrics_token=METRICS_TOKEN)) as http:
        before = samples((await http.get("/metrics", headers=SCRAPE)).text)
        issued = 7
        for _ in range(issued):
            token = await http.post(
                "/t/system/token", data={"grant_type": "client_credentials"}, auth=credentials
            )
            assert token.status_code == 200, token.text
        refused = await http.post(
            "/t/system/token", data={"grant_type": "client_credentials"}, auth=("x", "y")
        )
        assert refused.status_code == 401
        for path in ("/t/demo/no-such-endpoint", "/t/system/jwks", "/t/demo/jwks", "/nowhere/a1b2c3"):
            await http.get(path)
        await http.get("/api/admin/v1/tenants/system/clients/", headers={"Authorization": "Bearer x"})
        scrape = await http.get("/metrics", headers=SCRAPE)

    assert scrape.status_code == 200
    assert scrape.headers["content-type"] == CONTENT_TYPE_PLAIN_0_0_4
    assert scrape.headers["cache-control"] == "no-store"
    after = samples(scrape.text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("pforte_tokens_issued_total", grant_type="client_credentials") == issued
    token_route = {"method": "POST", "route": "/t/{slug}/token"}
    assert grew("pforte_http_requests_total", **token_route, status="200") == issued
    assert grew("pforte_http_requests_total", **token_route, status="401") == 1
    assert grew("pforte_http_request_duration_seconds_count", **token_route) == issued + 1
    assert grew("pforte_http_request_duration_seconds_bucket", **token_route, le="+Inf") == issued + 1
    assert grew("pforte_http_requests_total", method="GET", route="unmatched", status="404") == 2
    assert grew("pforte_http_requests_total", method="GET", route="/t/{slug}/jwks", status="200") == 1
    assert grew("pforte_http_requests_total", method="GET", route="/t/{slug}/jwks", status="404") == 1
    admin = "/api/admin/v1/tenants/{tenant}/clients"
    assert grew("pforte_http_requests_total", method="GET", route=admin, status="401") == 1
    assert grew("pforte_cache_requests_total", cache="clients", result="hit") >= issued - 1

    routes = {
        labels["route"] for (_, labels_set) in after for labels in [dict(labels_set)] if "route" in labels
    }
    assert all(route == "unmatched" or route.startswith("/") for route in routes)
    for raw in ("system", "demo", "a1b2c3", "no-such-endpoint"):
        assert not any(raw in route for route in routes), routes
    assert value(after, "pforte_feed_listening") == 1
    assert 0 <= value(after, "pforte_feed_lag_seconds") < 5


async def test_metrics_speak_openmetrics_when_asked(database: Database) -> None:
    async with serving(settings_for(database.url, metrics_token=METRICS_TOKEN), with_feed=False) as http:
        response = await http.get("/metrics", headers={**SCRAPE, "Accept": "application/openmetrics-text"})
    assert response.status_code == 200
    assert response.headers["content-type"] == OPENMETRICS
    assert response.text.endswith("# EOF\n")
    assert "pforte_feed_listening 0.0" in response.text.splitlines()
