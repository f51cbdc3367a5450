"""Background work of a serving process: the change feed and housekeeping.

The change feed keeps this process's caches in step with changes other processes commit:

- PostgreSQL: a dedicated connection LISTENs on ``pforte_changes`` (a trigger NOTIFYs each
  change at commit). If that connection breaks, changes may have been missed, so the caches
  are cleared and the connection is made again; a keep-alive query notices a silent break
  within ``KEEPALIVE`` seconds.
- SQLite (one host): the feed table is polled every ``POLL_INTERVAL`` seconds for rows past the
  last ``seq`` seen — an indexed range read that is empty almost always.

Housekeeping: secrets' ``lastUsedAt`` is written every ``usage.FLUSH_INTERVAL`` seconds (and at
shutdown), the token endpoint's events and the day's counts every ``event_buffer.FLUSH_INTERVAL``
seconds (and at shutdown); old feed rows and expired deny-list entries are pruned.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import timedelta
from typing import Any

from pforte.domain.clock import utcnow
from pforte.observability import log
from pforte.services.changes import Change, parse_notification
from pforte.services.context import Context
from pforte.services.event_buffer import FLUSH_INTERVAL as EVENT_FLUSH_INTERVAL
from pforte.services.usage import FLUSH_INTERVAL
from pforte.store.engine import driver_dsn
from pforte.store.repos.changes import ChangeRepo, RevokedTokenRepo
from pforte.store.sqlite_feed import SQLiteFeedReader

CHANNEL = "pforte_changes"
LISTENER_NAME = "pforte-change-feed"  # application_name of the LISTEN connection (pg_stat_activity)
POLL_INTERVAL = 0.25
KEEPALIVE = 0.5
RECONNECT_DELAY = 1.0
PRUNE_INTERVAL = 60.0
FEED_RETENTION = timedelta(minutes=10)  # far longer than any poller can fall behind


async def poll_changes(ctx: Context, *, interval: float = POLL_INTERVAL) -> None:
    """SQLite: apply every feed row committed after the ones seen so far (read inline, see
    ``store.sqlite_feed``)."""
    reader = SQLiteFeedReader(ctx.db.url)
    try:
        last = reader.last_seq()
        ctx.feed.heard()
        while True:
            await asyncio.sleep(interval)
            try:
                rows = reader.since(last)
            except sqlite3.Error as exc:  # a busy or locked database: try again next tick
                log.warning("change_feed_poll_failed", error=type(exc).__name__)
                continue
            for seq, kind, tenant_id, subject in rows:
                ctx.cache.apply_change(Change(kind, tenant_id, subject))
                last = seq
            ctx.feed.heard()
    finally:
        ctx.feed.lost()
        reader.close()


async def listen_changes(ctx: Context, *, keepalive: float = KEEPALIVE) -> None:
    """PostgreSQL: apply each NOTIFY as it arrives; on any break, clear the caches and reconnect."""

    def on_notify(_conn: object, _pid: int, _channel: str, payload: str) -> None:
        parsed = parse_notification(payload)
        if parsed is None:
            ctx.cache.clear()
        else:
            ctx.cache.apply_change(parsed[1])
        ctx.feed.heard()

    import asyncpg

    dsn = driver_dsn(ctx.db.url)
    while True:
        conn = None
        try:
            conn = await asyncpg.connect(dsn, server_settings={"application_name": LISTENER_NAME})
            await conn.add_listener(CHANNEL, on_notify)
            ctx.cache.clear()  # whatever changed before we listened is not in the caches
            ctx.feed.heard()
            while True:
                await asyncio.sleep(keepalive)
                await conn.execute("SELECT 1")
                ctx.feed.heard()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any break: forget, reconnect
            ctx.feed.lost()
            log.warning("change_feed_reconnecting", error=type(exc).__name__)
            ctx.cache.clear()
            await asyncio.sleep(RECONNECT_DELAY)
        finally:
            ctx.feed.lost()
            if conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), timeout=2)


async def flush_usage(ctx: Context, *, interval: float = FLUSH_INTERVAL) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await ctx.usage.flush(ctx.db)
        except Exception as exc:  # noqa: BLE001 - kept for the next flush
            log.warning("usage_flush_failed", error=type(exc).__name__)


async def flush_events(ctx: Context, *, interval: float = EVENT_FLUSH_INTERVAL) -> None:
    while True:
        await ctx.events.wait(interval)
        try:
            await ctx.events.flush(ctx.db)
        except Exception as exc:  # noqa: BLE001 - kept for the next flush
            log.warning("event_flush_failed", error=type(exc).__name__, pending=ctx.events.pending)


async def prune(ctx: Context, *, interval: float = PRUNE_INTERVAL) -> None:
    while True:
        await asyncio.sleep(interval)
        now = utcnow()
        try:
            async with ctx.db.transaction() as session:
                await ChangeRepo(session).prune(now - FEED_RETENTION)
                await RevokedTokenRepo(session).prune(now)
        except Exception as exc:  # noqa: BLE001 - housekeeping: try again later
            log.warning("prune_failed", error=type(exc).__name__)
        ctx.cache.prune_revoked(now.timestamp())


Job = Callable[[Context], Coroutine[Any, Any, None]]


@contextlib.asynccontextmanager
async def running(ctx: Context, *extra: Job) -> AsyncIterator[None]:
    """Run the feed and housekeeping (and ``extra`` jobs) while the server serves."""
    feed = poll_changes if ctx.db.dialect == "sqlite" else listen_changes
    tasks = [asyncio.create_task(job(ctx)) for job in (feed, flush_usage, flush_events, prune, *extra)]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for flush, what in ((ctx.usage.flush, "usage"), (ctx.events.flush, "event")):
            try:
                await flush(ctx.db)
            except Exception as exc:  # noqa: BLE001 - shutting down: say so and go
                log.warning(f"{what}_flush_failed", error=type(exc).__name__)
