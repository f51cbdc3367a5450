"""Event retention: events older than ``PFORTE_EVENT_RETENTION_DAYS`` are deleted (0 keeps them).

Each serving process checks at start and then hourly; it deletes tenant by tenant, at most
``BATCH`` rows a statement, each its own short transaction, so that the job never holds a long
lock (nor a long write lock on SQLite). Several processes deleting at once delete the same
rows at most once each: what one deleted, the other does not find.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pforte.domain.clock import utcnow
from pforte.observability import log
from pforte.services.context import Context
from pforte.store.repos.audit import AuditRepo
from pforte.store.repos.tenants import TenantRepo

CHECK_INTERVAL = 3600.0
BATCH = 1000


async def delete_old_events(ctx: Context, now: datetime, *, batch: int = BATCH) -> int:
    """Delete every event written before the retention period; how many."""
    days = ctx.settings.event_retention_days
    if days == 0:
        return 0
    before = now - timedelta(days=days)
    async with ctx.db.transaction() as session:
        tenants = [t.id for t in await TenantRepo(session).all()]
    deleted = 0
    for tenant_id in tenants:
        while True:
            async with ctx.db.transaction() as session:
                n = await AuditRepo(session).delete_before(tenant_id, before, limit=batch)
            deleted += n
            if n < batch:
                break
            await asyncio.sleep(0)  # let requests in between two batches
    return deleted


async def run_event_retention(ctx: Context, *, interval: float = CHECK_INTERVAL) -> None:
    if ctx.settings.event_retention_days == 0:
        log.info("event_retention_disabled")
        return
    while True:
        try:
            deleted = await delete_old_events(ctx, utcnow())
            if deleted:
                log.info("events_deleted", count=deleted, retention_days=ctx.settings.event_retention_days)
        except Exception as exc:  # noqa: BLE001 - try again at the next check
            log.warning("event_retention_failed", error=type(exc).__name__)
        await asyncio.sleep(interval)
