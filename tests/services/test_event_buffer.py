"""The event buffer: a flush writes what waits (and only once), a failed flush keeps it for the
next, a deleted tenant's rows go with the tenant, and memory is bounded whatever the database
does — the counts of dropped events are kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from pforte.domain.clock import utcnow
from pforte.services import tenants as tenant_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.services.event_buffer import WRITE_SLICE, EventBuffer
from pforte.store.engine import Database
from pforte.store.tables import AuditEventRow, DailyCountRow
from tests.conftest import make_tenant, tenant_id_of

pytestmark = pytest.mark.anyio


def issue(buffer: EventBuffer, tenant: uuid.UUID, n: int, client_id: str = "svc") -> None:
    for _ in range(n):
        buffer.token_issued(
            tenant, "t", utcnow(), client_id, None, "client_credentials", None, uuid.uuid4().hex
        )


async def tokens(ctx: Context, tenant: uuid.UUID) -> tuple[int, int]:
    """(token.issued events, tokensIssued counted) of the tenant."""
    async with ctx.db.transaction() as session:
        events = await session.scalar(
            select(func.count()).where(
                AuditEventRow.tenant_id == tenant, AuditEventRow.name == "token.issued"
            )
        )
        counted = await session.scalar(
            select(func.coalesce(func.sum(DailyCountRow.tokens_issued), 0)).where(
                DailyCountRow.tenant_id == tenant
            )
        )
    return int(events or 0), int(counted or 0)


async def test_a_flush_writes_once_and_a_deleted_tenants_rows_go(ctx: Context) -> None:
    kept, gone = await make_tenant(ctx), await make_tenant(ctx)
    kept_id, gone_id = await tenant_id_of(ctx, kept), await tenant_id_of(ctx, gone)
    buffer = EventBuffer()
    issue(buffer, kept_id, 3)
    issue(buffer, gone_id, 2)
    buffer.sign_in_failed(gone_id, utcnow(), None)
    await tenant_service.delete_tenant(ctx, SYSTEM_PRINCIPAL, gone)
    assert await buffer.flush(ctx.db) == 5
    assert await buffer.flush(ctx.db) == 0  # nothing twice
    assert await tokens(ctx, kept_id) == (3, 3)
    assert await tokens(ctx, gone_id) == (0, 0)


async def test_a_failed_flush_keeps_everything_for_the_next(ctx: Context, tmp_path: object) -> None:
    tenant = await tenant_id_of(ctx, await make_tenant(ctx))
    buffer = EventBuffer()
    issue(buffer, tenant, 4)
    buffer.signed_in(tenant, utcnow(), "svc", uuid.uuid4())
    broken = Database(f"sqlite+aiosqlite:///{tmp_path}/no-schema.db")  # no tables: every write fails
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises
        await buffer.flush(broken)
    await broken.dispose()
    assert buffer.pending == 4
    assert await buffer.flush(ctx.db) == 4
    assert await tokens(ctx, tenant) == (4, 4)
    async with ctx.db.transaction() as session:
        assert (
            await session.scalar(select(DailyCountRow.sign_ins).where(DailyCountRow.tenant_id == tenant)) == 1
        )


async def test_memory_is_bounded_and_dropped_events_still_count(ctx: Context) -> None:
    tenant = await tenant_id_of(ctx, await make_tenant(ctx))
    buffer = EventBuffer(flush_at=10, hard_cap=100)
    issue(buffer, tenant, 250)
    assert buffer.pending <= 100
    assert buffer.dropped == 250 - buffer.pending
    written = await buffer.flush(ctx.db)
    assert written == 250 - buffer.dropped
    events, counted = await tokens(ctx, tenant)
    assert (events, counted) == (written, 250)  # the metric is exact: only events were dropped


def test_the_day_is_the_utc_day() -> None:
    buffer = EventBuffer()
    tenant = uuid.uuid4()
    late = datetime(2026, 12, 6, 23, 59, 59, 999999, tzinfo=UTC)
    buffer.sign_in_failed(tenant, late, None)
    assert list(buffer._counts) == [(tenant, late.date(), "")]


async def test_every_row_of_a_many_slice_batch_is_written_whole(ctx: Context) -> None:
    tenant = await tenant_id_of(ctx, await make_tenant(ctx))
    user = uuid.uuid4()
    buffer = EventBuffer()
    n = WRITE_SLICE + 100  # with the failure below, on SQLite: parts of 256, 256, 64, 16, 16, 16 (5 rows)
    jtis = [f"jti-{i:04d}" for i in range(n)]
    for i, jti in enumerate(jtis):
        user_id = str(user) if i % 2 else None
        buffer.token_issued(tenant, "t", utcnow(), "svc", user_id, "client_credentials", "a b", jti)
    buffer.authentication_failed(tenant, "t", utcnow(), "who\x00am-i")
    assert await buffer.flush(ctx.db) == n + 1
    for i in range(40):  # a quiet second: parts of 16, 16 and 16 (8 rows)
        jtis.append(f"jti-{n + i:04d}")
        buffer.token_issued(tenant, "t", utcnow(), "svc", None, "client_credentials", "a b", jtis[-1])
    assert await buffer.flush(ctx.db) == 40
    async with ctx.db.transaction() as session:
        rows = (
            await session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.tenant_id == tenant, AuditEventRow.actor != "system:pforte")
                .order_by(AuditEventRow.id)
            )
        ).all()
    issued = [r for r in rows if r.name == "token.issued"]
    assert sorted(r.target_id for r in issued) == jtis  # each once
    moments = [r.created_at for r in issued]
    assert moments == sorted(moments)  # ids order as the moments (ties: random bits)
    for row in issued:
        i = jtis.index(row.target_id)
        assert row.actor == "client:svc" and row.actor_tenant == "t" and row.actor_client_id == "svc"
        assert row.target_type == "access_token" and row.client_id == "svc"
        expected = {
            "clientId": "svc",
            "grantType": "client_credentials",
            "scope": "a b",
            "jti": row.target_id,
        }
        if i % 2 and i < n:
            expected["userId"] = str(user)
        assert row.changes == expected
        assert row.user_id == (user if i % 2 and i < n else None)
        assert row.created_at.tzinfo is not None
        assert row.id.version == 7
    failed = [r for r in rows if r.name == "client.authentication_failed"]
    assert len(failed) == 1
    assert failed[0].actor == "anonymous:-" and failed[0].target_id == "whoam-i"
    assert failed[0].changes == {"clientId": "whoam-i", "reason": "invalid_client"}
