"""Expiry warnings: a client secret or API key that expires within ``PFORTE_EXPIRY_WARNING_DAYS``
gets one ``client_secret.expiring`` / ``api_key.expiring`` event, once in its life.

Each serving process checks at start and then daily. The credential is marked
(``expiry_warned_at``) by the same statement that picks it — ``UPDATE … WHERE expiry_warned_at
IS NULL … RETURNING`` — and its event is written in that transaction: of several processes (or
workers) checking at once, one writes each warning, and a warning is never written twice.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from pforte.domain.clock import utcnow
from pforte.domain.events import SYSTEM_ACTOR, Event, EventName
from pforte.observability import log
from pforte.services import audit
from pforte.services.context import Context
from pforte.store.repos.credentials import ApiKeyRepo, SecretRepo
from pforte.store.repos.tenants import TenantRepo
from pforte.store.tables import ApiKeyRow, ClientSecretRow

CHECK_INTERVAL = 24 * 3600.0


def _secret_event(row: ClientSecretRow, client_id: str) -> Event:
    changes: dict[str, Any] = {
        "clientId": client_id,
        "id": str(row.id),
        "expiration": row.expiration.isoformat(),
        "valueDisplay": row.value_display,
        "description": row.description,
    }
    return Event(EventName.CLIENT_SECRET_EXPIRING, "client_secret", str(row.id), changes)


def _key_event(row: ApiKeyRow, client_id: str) -> Event:
    changes: dict[str, Any] = {
        "clientId": client_id,
        "id": str(row.id),
        "expiration": row.expiration.isoformat() if row.expiration else None,
        "valueDisplay": row.value_display,
        "name": row.name,
    }
    return Event(EventName.API_KEY_EXPIRING, "api_key", str(row.id), changes)


async def warn_expiring(ctx: Context, now: datetime) -> list[Event]:
    """Write the warning of every credential now due one; the events written."""
    until = now + timedelta(days=ctx.settings.expiry_warning_days)
    async with ctx.db.transaction() as session:
        tenants = [t.id for t in await TenantRepo(session).all()]
    written: list[Event] = []
    for tenant_id in tenants:
        try:
            async with ctx.db.transaction() as session:
                events = [
                    _secret_event(r, c)
                    for r, c in await SecretRepo(session).mark_expiring(tenant_id, now, until)
                ]
                events += [
                    _key_event(r, c)
                    for r, c in await ApiKeyRepo(session).mark_expiring(tenant_id, now, until)
                ]
                for event in events:
                    audit.record(session, tenant_id=tenant_id, actor=SYSTEM_ACTOR, event=event, publish=False)
            written += events
        except Exception as exc:  # noqa: BLE001 - one tenant's failure must not stop the others
            log.warning("expiry_warning_failed", tenant_id=str(tenant_id), error=type(exc).__name__)
    return written


async def run_expiry_warnings(ctx: Context, *, interval: float = CHECK_INTERVAL) -> None:
    """Warn now and then every ``interval`` seconds, until cancelled."""
    while True:
        try:
            written = await warn_expiring(ctx, utcnow())
            if written:
                log.info("expiry_warnings_written", count=len(written))
        except Exception as exc:  # noqa: BLE001 - a database hiccup: try again at the next check
            log.warning("expiry_warning_check_failed", error=type(exc).__name__)
        await asyncio.sleep(interval)
