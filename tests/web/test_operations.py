"""Operators' endpoints in process, on SQLite and PostgreSQL: ``/health/live`` and
``/health/ready`` (and ``/healthz``). A real ``pforte serve`` is in tests/e2e/test_operations.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from pforte.app import create_app
from pforte.services import feed
from pforte.services.bootstrap import initialise
from pforte.services.context import Context
from pforte.settings import Settings
from tests.conftest import FAST_PASSWORDS, PUBLIC_URL, SECRET_KEY, throwaway_postgres
from tests.e2e.conftest import free_port

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


@pytest.fixture(params=["sqlite", "postgresql"])
def throwaway(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (this test changes its schema's revision)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'pforte.db'}"
        return
    with throwaway_postgres() as url:
        yield url


async def test_not_ready_when_the_database_is_behind_the_code(throwaway: str) -> None:
    settings = settings_for(throwaway)
    ctx = Context.create(settings)
    try:
        assert await initialise(ctx) is not None  # migrated to the head, as `pforte serve` does
        async with ctx.db.transaction() as session:
            await session.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    finally:
        await ctx.db.dispose()
    async with serving(settings) as http:
        assert_unavailable(await http.get("/health/ready"), migrations="behind: db 0006, code 0007")
    ctx = Context.create(settings)
    try:
        async with ctx.db.transaction() as session:
            await session.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    finally:
        await ctx.db.dispose()
    async with serving(settings) as http:
        assert_unavailable(
            await http.get("/health/ready"),
            migrations="ahead: db 0099 is unknown to this code (head 0007)",
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
