"""Automatic signing-key rotation: every ``PFORTE_KEY_ROTATION_DAYS`` (0 turns it off).

Each serving process checks at start and then hourly; several processes (or workers) on one
database may check at the same moment, so each tenant's rotation re-checks, under the tenant's
row lock, that it is still due: one of them rotates, the others find a fresh key and leave it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pforte.domain.clock import utcnow
from pforte.domain.events import SYSTEM_ACTOR
from pforte.domain.oauth import signing_keys
from pforte.observability import log
from pforte.services.context import Context
from pforte.services.keys import Rotation, rotate_locked
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo

CHECK_INTERVAL = 3600.0  # seconds between checks of a serving process


async def rotate_due_keys(ctx: Context, now: datetime) -> list[Rotation]:
    """Rotate the key of every tenant whose newest key is older than the interval; what was done.

    A tenant whose rotation fails is logged and skipped; the others go on.
    """
    days = ctx.settings.key_rotation_days
    if days == 0:
        return []
    interval = timedelta(days=days)
    async with ctx.db.transaction() as session:
        candidates = await TenantRepo(session).with_keys_older_than(now - interval)
    done = []
    for tenant_id in candidates:
        try:
            async with ctx.db.transaction() as session:
                tenant = await TenantRepo(session).lock(tenant_id)
                if tenant is None:  # deleted meanwhile
                    continue
                rows = await SigningKeyRepo(session).list(tenant_id)
                newest = max((r.created_at for r in rows), default=None)
                if not signing_keys.rotation_due(newest, now, interval):  # another process was first
                    continue
                done.append(await rotate_locked(session, ctx, tenant=tenant, actor=SYSTEM_ACTOR, now=now))
        except Exception as exc:  # noqa: BLE001 - one tenant's failure must not stop the others
            log.error("key_rotation_failed", tenant_id=str(tenant_id), error=type(exc).__name__)
    return done


async def run_key_rotation(ctx: Context, *, interval: float = CHECK_INTERVAL) -> None:
    """Rotate due keys now and then every ``interval`` seconds, until cancelled."""
    if ctx.settings.key_rotation_days == 0:
        log.info("key_rotation_disabled")
        return
    while True:
        try:
            rotations = await rotate_due_keys(ctx, utcnow())
        except Exception as exc:  # noqa: BLE001 - a database hiccup: try again at the next check
            log.warning("key_rotation_check_failed", error=type(exc).__name__)
            rotations = []
        for r in rotations:
            until = r.old_keys_until
            log.info(
                "signing_key_rotated",
                tenant=r.tenant.slug,
                kid=r.key.kid,
                active_from=r.key.active_from.isoformat(),
                old_keys_until=until.isoformat() if until else None,
            )
        await asyncio.sleep(interval)
