"""Reading a tenant's events and daily counts (``events:read``): the Event API, the Metric API
and the admin console's events page."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from pforte.domain.event_log import EventFilter, RecordedEvent
from pforte.domain.metrics import DailyCounts, DayRange
from pforte.domain.pagination import Page, check_limit
from pforte.domain.principal import Principal
from pforte.services.context import Context
from pforte.services.units import tenant_read
from pforte.store.repos.audit import AuditRepo
from pforte.store.repos.metrics import MetricRepo
from pforte.store.tables import AuditEventRow

EVENTS_READ = "events:read"


def recorded(row: AuditEventRow) -> RecordedEvent:
    return RecordedEvent(
        id=row.id,
        type=row.name,
        created_at=row.created_at,
        actor=row.actor,
        actor_client_id=row.actor_client_id,
        target_type=row.target_type,
        target_id=row.target_id,
        client_id=row.client_id,
        user_id=row.user_id,
        changes=dict(row.changes),
        request_id=row.request_id,
    )


async def list_events(
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    wanted: EventFilter,
    *,
    cursor: str | None,
    limit: int | None,
) -> Page[RecordedEvent]:
    """The tenant's events ``wanted`` describes, newest first, a keyset page at a time."""
    wanted = wanted.checked()
    size = check_limit(limit, ctx.settings.page_size_max)
    async with tenant_read(ctx, principal, tenant_ref, EVENTS_READ) as unit:
        page = await AuditRepo(unit.session).page(unit.tenant.id, wanted, cursor=cursor, limit=size)
    return page.map(recorded)


async def daily(
    ctx: Context, principal: Principal, tenant_ref: str, days: DayRange, *, client_id: str | None
) -> tuple[list[DailyCounts], list[DailyCounts]]:
    """Per day and client (only where something was counted), by day then client; and the
    tenant's totals of every day of the range (zeros included; a user active at two clients
    is one active user of the tenant)."""
    async with tenant_read(ctx, principal, tenant_ref, EVENTS_READ) as unit:
        repo = MetricRepo(unit.session)
        rows = await repo.counts(unit.tenant.id, days, client_id)
        active = await repo.active_users(unit.tenant.id, days, client_id)
    items = [
        DailyCounts(
            day=r.day,
            client_id=r.client_id or None,  # NO_CLIENT: a failed sign-in that named none
            tokens_issued=r.tokens_issued,
            failed_client_authentications=r.failed_client_authentications,
            sign_ins=r.sign_ins,
            sign_in_failures=r.sign_in_failures,
            active_users=active.get((r.day, r.client_id), 0),
        )
        for r in rows
    ]
    by_day: dict[date, list[DailyCounts]] = defaultdict(list)
    for item in items:
        by_day[item.day].append(item)
    totals = [
        DailyCounts(
            day=day,
            client_id=None,
            tokens_issued=sum(i.tokens_issued for i in by_day[day]),
            failed_client_authentications=sum(i.failed_client_authentications for i in by_day[day]),
            sign_ins=sum(i.sign_ins for i in by_day[day]),
            sign_in_failures=sum(i.sign_in_failures for i in by_day[day]),
            active_users=active.get((day, None), 0),
        )
        for day in days.days()
    ]
    return items, totals
