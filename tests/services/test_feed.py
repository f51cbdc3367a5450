"""The change feed and the hot-path cache: what another process's change does to this one's
caches, a broken LISTEN connection, and a load that races with a change."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from pforte.domain.clients import ClientSpec
from pforte.services import clients as client_service
from pforte.services import feed
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.changes import REVOKED, TENANT, Change, parse_notification
from pforte.services.context import Context
from pforte.services.views import TenantView
from pforte.settings import Settings
from tests.conftest import _pg_admin_dsn, make_tenant

pytestmark = pytest.mark.anyio


async def until(check: Callable[[], bool], limit: float = 5.0) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > limit:
            pytest.fail(f"not within {limit}s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def cached_client_enabled(ctx: Context, slug: str, client_id: str) -> bool | None:
    tenant = await ctx.cache.tenant(slug)
    assert tenant is not None
    view = await ctx.cache.client(tenant, client_id)
    return None if view is None else view.enabled


def test_notification_payloads_parse_or_are_refused() -> None:
    tenant = uuid.uuid4()
    assert parse_notification(f"7 tenant {tenant} ") == (7, Change(TENANT, tenant, None))
    assert parse_notification("8 revoked - abc 1700000000") == (8, Change(REVOKED, None, "abc 1700000000"))
    for garbage in ("", "x", "1 tenant", "x tenant -", "1 tenant not-a-uuid"):
        assert parse_notification(garbage) is None


async def test_another_processs_change_reaches_this_one_within_a_second(
    ctx: Context, settings: Settings
) -> None:
    slug = await make_tenant(ctx)
    await client_service.create_client(ctx, SYSTEM_PRINCIPAL, slug, ClientSpec(client_id="svc"))
    other = Context.create(settings)  # another process: its own engine, caches and feed
    try:
        async with feed.running(other):
            await asyncio.sleep(0.3)  # the feed has started (and, on PostgreSQL, listens)
            assert await cached_client_enabled(other, slug, "svc") is True
            await client_service.patch_client(ctx, SYSTEM_PRINCIPAL, slug, "svc", {"enabled": False})
            assert await cached_client_enabled(ctx, slug, "svc") is False  # at once in this one
            seconds = await until(lambda: other.cache.generation > 0 and not other.cache._clients)
            assert seconds <= 1.0
            assert await cached_client_enabled(other, slug, "svc") is False
    finally:
        await other.db.dispose()


async def test_a_broken_listen_connection_clears_the_caches_and_reconnects(
    ctx: Context, settings: Settings
) -> None:
    if ctx.db.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is the PostgreSQL feed")
    slug = await make_tenant(ctx)
    await client_service.create_client(ctx, SYSTEM_PRINCIPAL, slug, ClientSpec(client_id="svc"))
    other = Context.create(settings)
    try:
        async with feed.running(other):
            await asyncio.sleep(0.3)
            assert await cached_client_enabled(other, slug, "svc") is True
            generation = other.cache.generation
            conn = await asyncpg.connect(_pg_admin_dsn())
            try:
                killed = await conn.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = $1 AND application_name = $2",
                    make_url(settings.database_url).database,
                    feed.LISTENER_NAME,
                )
            finally:
                await conn.close()
            assert killed == 1
            await until(lambda: other.cache.generation > generation and not other.cache._clients)
            await asyncio.sleep(feed.RECONNECT_DELAY + 0.5)  # listening again
            assert await cached_client_enabled(other, slug, "svc") is True
            await client_service.patch_client(ctx, SYSTEM_PRINCIPAL, slug, "svc", {"enabled": False})
            assert await until(lambda: not other.cache._clients) <= 1.0
            assert await cached_client_enabled(other, slug, "svc") is False
    finally:
        await other.db.dispose()


async def test_a_load_that_raced_with_a_change_is_not_kept(ctx: Context) -> None:
    slug = await make_tenant(ctx)
    loading, release = asyncio.Event(), asyncio.Event()
    real = ctx.cache.loader.tenant

    async def slow_load(s: str) -> TenantView | None:
        view = await real(s)  # read before the change is applied ...
        loading.set()
        await release.wait()  # ... and returned after it
        return view

    ctx.cache.loader.tenant = slow_load  # type: ignore[method-assign]
    task = asyncio.create_task(ctx.cache.tenant(slug))
    await loading.wait()
    tenant_id = (await real(slug)).id  # type: ignore[union-attr]
    ctx.cache.apply_change(Change(TENANT, tenant_id))
    release.set()
    assert (await task) is not None  # the caller gets its answer ...
    assert slug not in ctx.cache._tenants  # ... but it is not remembered
    ctx.cache.loader.tenant = real  # type: ignore[method-assign]
    assert await ctx.cache.tenant(slug) is not None
    assert slug in ctx.cache._tenants
