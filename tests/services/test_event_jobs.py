"""The housekeeping jobs of events: retention deletes only what is older than the setting, in
every tenant and nowhere else; expiry warnings are written once per credential — run twice,
or from two processes at once — and never for one already expired or far from it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from pforte.domain.clients import ClientSpec
from pforte.domain.clock import utcnow
from pforte.domain.ids import id_at
from pforte.services import clients as client_service
from pforte.services import credentials as credential_service
from pforte.services import guide as guide_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.services.credentials import ApiKeyRequest, SecretRequest
from pforte.services.event_retention import delete_old_events
from pforte.services.expiry_warnings import warn_expiring
from pforte.settings import Settings
from pforte.store.repos.audit import AuditRepo
from pforte.store.tables import AuditEventRow
from tests.conftest import make_tenant, tenant_id_of

pytestmark = pytest.mark.anyio


def event_row(tenant: uuid.UUID, age: timedelta, name: str) -> AuditEventRow:
    at = utcnow() - age
    return AuditEventRow(
        id=id_at(at),
        tenant_id=tenant,
        name=name,
        actor="system:pforte",
        actor_tenant="system",
        actor_client_id=None,
        target_type="client",
        target_id="x",
        changes={},
        request_id=None,
        created_at=at,
        client_id="x",
        user_id=None,
    )


async def add_events(ctx: Context, rows: list[AuditEventRow]) -> None:
    async with ctx.db.transaction() as session:
        repo = AuditRepo(session)
        for row in rows:
            repo.add(row)


async def names(ctx: Context, tenant: uuid.UUID, prefix: str = "") -> list[str]:
    async with ctx.db.transaction() as session:
        return sorted(r.name for r in await AuditRepo(session).list(tenant, limit=10_000, name_prefix=prefix))


async def test_retention_deletes_only_older_events_in_batches(ctx: Context) -> None:
    a, b = await tenant_id_of(ctx, await make_tenant(ctx)), await tenant_id_of(ctx, await make_tenant(ctx))
    rows = [event_row(a, timedelta(days=91, minutes=n), "test.old") for n in range(5)]
    rows += [event_row(a, timedelta(days=89), "test.kept"), event_row(b, timedelta(days=30), "test.kept")]
    rows += [event_row(b, timedelta(days=400), "test.old")]
    await add_events(ctx, rows)
    assert ctx.settings.event_retention_days == 90
    deleted = await delete_old_events(ctx, utcnow(), batch=2)  # 5 in A: three batches
    assert deleted >= 6
    assert await names(ctx, a, "test.") == ["test.kept"]
    assert await names(ctx, b, "test.") == ["test.kept"]
    assert "tenant.created" in await names(ctx, a)  # today's events stay


async def test_retention_zero_keeps_everything(ctx: Context, settings: Settings) -> None:
    a = await tenant_id_of(ctx, await make_tenant(ctx))
    await add_events(ctx, [event_row(a, timedelta(days=5000), "test.ancient")])
    forever = Context.create(settings.model_copy(update={"event_retention_days": 0}))
    try:
        assert await delete_old_events(forever, utcnow()) == 0
    finally:
        await forever.db.dispose()
    assert await names(ctx, a, "test.") == ["test.ancient"]


async def expiring_events(ctx: Context, tenant: uuid.UUID) -> list[AuditEventRow]:
    async with ctx.db.transaction() as session:
        stmt = select(AuditEventRow).where(
            AuditEventRow.tenant_id == tenant,
            AuditEventRow.name.in_(["client_secret.expiring", "api_key.expiring"]),
        )
        return list((await session.scalars(stmt.order_by(AuditEventRow.id))).all())


async def test_expiry_warnings_are_written_once_per_credential(ctx: Context, settings: Settings) -> None:
    slug = await make_tenant(ctx)
    tenant = await tenant_id_of(ctx, slug)
    now = utcnow()
    spec = ClientSpec(client_id="rotating", allowed_scopes=["events:read"])
    await client_service.create_client(ctx, SYSTEM_PRINCIPAL, slug, spec)  # its first secret: 6 months
    soon = await credential_service.create_secret(
        ctx,
        SYSTEM_PRINCIPAL,
        slug,
        "rotating",
        SecretRequest(description="soon", expiration=now + timedelta(days=10)),
    )
    later = await credential_service.create_secret(
        ctx, SYSTEM_PRINCIPAL, slug, "rotating", SecretRequest(expiration=now + timedelta(days=100))
    )
    key = await credential_service.create_api_key(
        ctx,
        SYSTEM_PRINCIPAL,
        slug,
        "rotating",
        ApiKeyRequest(name="nightly", expiration=now + timedelta(days=5)),
    )
    await credential_service.create_api_key(
        ctx, SYSTEM_PRINCIPAL, slug, "rotating", ApiKeyRequest(name="forever")
    )

    await warn_expiring(ctx, now)
    first = await expiring_events(ctx, tenant)
    assert sorted((e.name, e.target_id) for e in first) == sorted(
        [("client_secret.expiring", str(soon.record.id)), ("api_key.expiring", str(key.record.id))]
    )
    secret_event = next(e for e in first if e.name == "client_secret.expiring")
    assert secret_event.changes == {
        "clientId": "rotating",
        "id": str(soon.record.id),
        "expiration": soon.record.expiration.isoformat(),
        "valueDisplay": soon.record.value_display,
        "description": "soon",
    }
    assert secret_event.client_id == "rotating" and secret_event.actor == "system:pforte"
    key_event = next(e for e in first if e.name == "api_key.expiring")
    assert key_event.changes["name"] == "nightly" and key_event.changes["clientId"] == "rotating"

    await warn_expiring(ctx, now + timedelta(hours=1))  # run again: nothing new
    assert len(await expiring_events(ctx, tenant)) == 2

    gone = await credential_service.create_secret(
        ctx, SYSTEM_PRINCIPAL, slug, "rotating", SecretRequest(expiration=now + timedelta(days=3))
    )
    await warn_expiring(ctx, now + timedelta(days=4))  # expired by then: no warning
    assert len(await expiring_events(ctx, tenant)) == 2

    # Two processes at once, when the 100-day secret is due: one warning.
    other = Context.create(settings)
    try:
        due = now + timedelta(days=90)
        await asyncio.gather(warn_expiring(ctx, due), warn_expiring(other, due), warn_expiring(ctx, due))
    finally:
        await other.db.dispose()
    events = await expiring_events(ctx, tenant)
    assert [e.target_id for e in events].count(str(later.record.id)) == 1
    assert str(gone.record.id) not in {e.target_id for e in events}
    assert len(events) == 3

    # The client's Activity tab shows them.
    activity = await guide_service.activity(ctx, SYSTEM_PRINCIPAL, slug, "rotating")
    assert {a.name for a in activity} >= {"client_secret.expiring", "api_key.expiring"}
