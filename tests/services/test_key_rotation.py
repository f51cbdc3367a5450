"""Signing-key rotation with overlap, at the service level with an explicit ``now``, and the
automatic rotation of due tenants (PFORTE_KEY_ROTATION_DAYS) — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update

from pforte.domain.clock import utcnow
from pforte.domain.errors import NotFound
from pforte.domain.events import CLI_ACTOR
from pforte.domain.oauth import signing_keys
from pforte.domain.oauth.signing_keys import KeyStatus
from pforte.security.keys import seal_context
from pforte.services import key_rotation
from pforte.services import tenants as tenant_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.services.key_rotation import rotate_due_keys, run_key_rotation
from pforte.services.keys import published_keys, rotate_signing_key, tenant_keys
from pforte.settings import Settings
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo
from pforte.store.tables import SigningKeyRow
from tests.conftest import audit_events, make_tenant

pytestmark = pytest.mark.anyio
AHEAD = timedelta(seconds=60)  # the default PFORTE_KEY_PUBLISH_AHEAD
HOLD = signing_keys.LONGEST_TOKEN + timedelta(seconds=60)  # from new.active_from to old.retired_at


async def keys_of(ctx: Context, slug: str) -> list[SigningKeyRow]:
    async with ctx.db.transaction() as session:
        tenant = await TenantRepo(session).get(slug)
        assert tenant is not None
        return await SigningKeyRepo(session).list(tenant.id)


def kids(rows: list[Any]) -> list[str]:
    return [r.kid for r in rows]


async def test_new_key_is_published_at_once_and_signs_after_the_publish_ahead(
    ctx: Context, tenant: str
) -> None:
    (old,) = await keys_of(ctx, tenant)
    now = utcnow()
    rotation = await rotate_signing_key(ctx, tenant_ref=tenant, actor=CLI_ACTOR, now=now)
    new = rotation.key
    assert (new.created_at, new.active_from, new.retired_at) == (now, now + AHEAD, None)
    assert new.alg == "ES256" and new.kid != old.kid
    assert kids(rotation.retiring) == [old.kid]
    assert rotation.withdrawn == [] and rotation.deleted == []
    assert rotation.old_keys_until == now + AHEAD + HOLD

    rows = await keys_of(ctx, tenant)
    assert kids(rows) == [old.kid, new.kid]
    stored_old = rows[0]
    assert stored_old.retired_at == now + AHEAD + HOLD
    assert stored_old.active_from == old.active_from  # its signing start is history

    def signer(moment: datetime) -> str | None:
        key = signing_keys.signing_key(rows, moment)
        return key.kid if key else None

    assert signer(now) == old.kid
    assert signer(now + AHEAD - timedelta(microseconds=1)) == old.kid
    assert signer(now + AHEAD) == new.kid
    assert kids(signing_keys.published(rows, now)) == [old.kid, new.kid]
    assert kids(signing_keys.published(rows, now + AHEAD + HOLD - timedelta(seconds=1))) == [old.kid, new.kid]
    assert kids(signing_keys.published(rows, now + AHEAD + HOLD)) == [new.kid]

    # What the JWKS publishes right now, and what the operator sees at each moment.
    assert [k["kid"] for k in await published_keys(ctx, tenant)] == [old.kid, new.kid]
    seen = [(s.key.kid, s.status) for s in await tenant_keys(ctx, tenant_ref=tenant, now=now)]
    assert seen == [(old.kid, KeyStatus.ACTIVE), (new.kid, KeyStatus.NEXT)]
    later = [(s.key.kid, s.status) for s in await tenant_keys(ctx, tenant_ref=tenant, now=now + AHEAD)]
    assert later == [(old.kid, KeyStatus.RETIRING), (new.kid, KeyStatus.ACTIVE)]
    gone = now + AHEAD + HOLD
    assert [(s.key.kid, s.status) for s in await tenant_keys(ctx, tenant_ref=tenant, now=gone)] == [
        (new.kid, KeyStatus.ACTIVE)
    ]


async def test_rotation_is_audited_in_its_transaction(ctx: Context, tenant: str) -> None:
    (old,) = await keys_of(ctx, tenant)
    now = utcnow()
    rotation = await rotate_signing_key(ctx, tenant_ref=tenant, actor=CLI_ACTOR, now=now)
    (event,) = await audit_events(ctx, "signing_key.rotated", rotation.key.kid)
    assert event.actor == "system:cli"
    assert event.target_type == "signing_key"
    assert event.changes == {
        "alg": "ES256",
        "activeFrom": (now + AHEAD).isoformat(),
        "retiring": [{"kid": old.kid, "retiredAt": (now + AHEAD + HOLD).isoformat()}],
    }


async def test_rotation_keeps_the_tenants_algorithm_and_seals_the_new_key(ctx: Context) -> None:
    slug = f"rs-{uuid.uuid4().hex[:10]}"
    await tenant_service.create_tenant(
        ctx, SYSTEM_PRINCIPAL, tenant_service.TenantCreate(slug=slug, signing_alg="RS256")
    )
    rotation = await rotate_signing_key(ctx, tenant_ref=slug, actor=CLI_ACTOR)
    assert rotation.key.alg == "RS256"
    assert rotation.key.public_jwk["kty"] == "RSA"
    # The sealed private half stays in the store (the rotation's records carry none).
    (stored,) = [row for row in await keys_of(ctx, slug) if row.kid == rotation.key.kid]
    der = ctx.sealer.open(stored.private_key_sealed, context=seal_context(rotation.tenant.id, stored.kid))
    assert der.startswith(b"\x30\x82")  # PKCS#8 DER, once opened
    assert b"PRIVATE KEY" not in stored.private_key_sealed


async def test_publish_ahead_zero_signs_at_once(settings: Settings, tenant: str) -> None:
    ctx = Context.create(settings.model_copy(update={"key_publish_ahead": 0}))
    try:
        (old,) = await keys_of(ctx, tenant)
        now = utcnow()
        rotation = await rotate_signing_key(ctx, tenant_ref=tenant, actor=CLI_ACTOR, now=now)
        assert rotation.key.active_from == now
        rows = await keys_of(ctx, tenant)
        assert signing_keys.signing_key(rows, now) is not None
        assert signing_keys.signing_key(rows, now).kid == rotation.key.kid  # type: ignore[union-attr]
        assert rows[0].kid == old.kid and rows[0].retired_at == now + HOLD
        assert rotation.state().status is KeyStatus.ACTIVE
    finally:
        await ctx.db.dispose()


async def test_two_rotations_in_a_row_retire_both_older_keys(ctx: Context, tenant: str) -> None:
    (first,) = await keys_of(ctx, tenant)
    now = utcnow()
    second = (await rotate_signing_key(ctx, tenant_ref=tenant, actor=CLI_ACTOR, now=now)).key
    later = now + timedelta(seconds=10)
    third = (await rotate_signing_key(ctx, tenant_ref=tenant, actor=CLI_ACTOR, now=later)).key
    rows = {r.kid: r for r in await keys_of(ctx, tenant)}
    assert rows[first.kid].retired_at == now + AHEAD + HOLD  # kept from the first rotation
    assert rows[second.kid].retired_at == later + AHEAD + HOLD
    assert rows[third.kid].retired_at is None
    signer = signing_keys.signing_key(list(rows.values()), later + AHEAD - timedelta(seconds=5))
    assert signer is not None and signer.kid == second.kid  # signs for the 10 s between the two
    signer = signing_keys.signing_key(list(rows.values()), later + AHEAD)
    assert signer is not None and signer.kid == third.kid


async def test_retired_keys_leave_the_jwks(ctx: Context, tenant: str) -> None:
    """A rotation long ago: its old key's last token has expired, so the JWKS drops it."""
    (old,) = await keys_of(ctx, tenant)
    long_ago = utcnow() - HOLD - timedelta(hours=1)
    new = (await rotate_signing_key(ctx, tenant_ref=tenant, actor=CLI_ACTOR, now=long_ago)).key
    assert [k["kid"] for k in await published_keys(ctx, tenant)] == [new.kid]
    assert kids([s.key for s in await tenant_keys(ctx, tenant_ref=tenant)]) == [new.kid]
    assert old.kid in kids(await keys_of(ctx, tenant))  # still stored: retired less than a day ago


async def test_rotation_deletes_keys_retired_more_than_a_day_ago(ctx: Context, tenant: str) -> None:
    (old,) = await keys_of(ctx, tenant)
    long_ago = utcnow() - HOLD - timedelta(days=2)
    middle = (await rotate_signing_key(ctx, tenant_ref=tenant, actor=CLI_ACTOR, now=long_ago)).key
    rotation = await rotate_signing_key(ctx, tenant_ref=tenant, actor=CLI_ACTOR)
    assert rotation.deleted == [old.kid]
    assert kids(await keys_of(ctx, tenant)) == [middle.kid, rotation.key.kid]
    (event,) = await audit_events(ctx, "signing_key.rotated", rotation.key.kid)
    assert event.changes["deleted"] == [old.kid]


async def test_concurrent_rotations_run_one_after_the_other(settings: Settings, tenant: str) -> None:
    """Two processes rotating the same tenant at once: the tenant's row lock puts one after the
    other, so the second sees (and retires) the first's new key; no key is left unretired."""
    one, two = Context.create(settings), Context.create(settings)
    try:
        a, b = await asyncio.gather(
            rotate_signing_key(one, tenant_ref=tenant, actor=CLI_ACTOR),
            rotate_signing_key(two, tenant_ref=tenant, actor=CLI_ACTOR),
        )
        rows = await keys_of(one, tenant)
    finally:
        await one.db.dispose()
        await two.db.dispose()
    assert len(rows) == 3
    unretired = [r.kid for r in rows if r.retired_at is None]
    assert len(unretired) == 1
    assert unretired[0] in {a.key.kid, b.key.kid}
    assert {len(a.retiring), len(b.retiring)} == {1}


async def test_unknown_tenant_is_not_found(ctx: Context) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        await rotate_signing_key(ctx, tenant_ref="no-such-tenant", actor=CLI_ACTOR)
    with pytest.raises(NotFound):
        await tenant_keys(ctx, tenant_ref="no-such-tenant")


# --- automatic rotation ----------------------------------------------------------------------


async def age_keys(ctx: Context, slug: str, age: timedelta) -> None:
    """Make every key of ``slug`` look ``age`` old."""
    async with ctx.db.transaction() as session:
        tenant = await TenantRepo(session).get(slug)
        assert tenant is not None
        await session.execute(
            update(SigningKeyRow)
            .where(SigningKeyRow.tenant_id == tenant.id)
            .values(created_at=utcnow() - age, active_from=utcnow() - age)
        )


def rotated(results: list[Any], slug: str) -> list[Any]:
    return [r for r in results if r.tenant.slug == slug]


@pytest.fixture
async def auto(settings: Settings) -> AsyncIterator[Context]:
    """A context with automatic rotation every 90 days (the default)."""
    context = Context.create(settings.model_copy(update={"key_rotation_days": 90}))
    yield context
    await context.db.dispose()


async def test_a_tenant_whose_key_is_older_than_the_interval_is_rotated_once(
    auto: Context, tenant: str
) -> None:
    await age_keys(auto, tenant, timedelta(days=91))
    (old,) = await keys_of(auto, tenant)
    now = utcnow()
    first = rotated(await rotate_due_keys(auto, now), tenant)
    assert len(first) == 1
    assert first[0].key.active_from == now + AHEAD
    assert kids(first[0].retiring) == [old.kid]
    (event,) = await audit_events(auto, "signing_key.rotated", first[0].key.kid)
    assert event.actor == "system:pforte"
    # Run again (the next hourly check, or another process): nothing more to do.
    assert rotated(await rotate_due_keys(auto, now), tenant) == []
    assert rotated(await rotate_due_keys(auto, now + timedelta(hours=1)), tenant) == []
    assert len(await keys_of(auto, tenant)) == 2


async def test_a_tenant_within_the_interval_is_left_alone(auto: Context, tenant: str) -> None:
    await age_keys(auto, tenant, timedelta(days=89))
    before = await keys_of(auto, tenant)
    assert rotated(await rotate_due_keys(auto, utcnow()), tenant) == []
    after = await keys_of(auto, tenant)
    assert [(r.kid, r.retired_at) for r in after] == [(r.kid, r.retired_at) for r in before]


async def test_rotation_days_zero_turns_it_off(settings: Settings, tenant: str) -> None:
    ctx = Context.create(settings.model_copy(update={"key_rotation_days": 0}))
    try:
        await age_keys(ctx, tenant, timedelta(days=3650))
        assert await rotate_due_keys(ctx, utcnow()) == []
        assert len(await keys_of(ctx, tenant)) == 1
        # The background job ends at once, without touching anything.
        await asyncio.wait_for(run_key_rotation(ctx), timeout=5)
        assert len(await keys_of(ctx, tenant)) == 1
    finally:
        await ctx.db.dispose()


async def test_two_processes_checking_at_once_rotate_once(settings: Settings, tenant: str) -> None:
    due = settings.model_copy(update={"key_rotation_days": 90})
    one, two = Context.create(due), Context.create(due)
    try:
        await age_keys(one, tenant, timedelta(days=100))
        now = utcnow()
        a, b = await asyncio.gather(rotate_due_keys(one, now), rotate_due_keys(two, now))
        assert len(rotated(a, tenant)) + len(rotated(b, tenant)) == 1
        assert len(await keys_of(one, tenant)) == 2
    finally:
        await one.db.dispose()
        await two.db.dispose()


async def test_the_background_job_rotates_at_start_and_logs_it(
    auto: Context, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await age_keys(auto, tenant, timedelta(days=91))
    logged: list[tuple[str, dict[str, Any]]] = []

    class Recorder:
        def info(self, event: str, **fields: Any) -> None:
            logged.append((event, fields))

        warning = error = info

    monkeypatch.setattr(key_rotation, "log", Recorder())
    task = asyncio.create_task(run_key_rotation(auto, interval=3600))
    try:
        for _ in range(200):
            if any(f.get("tenant") == tenant for _, f in logged):
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    (entry,) = [f for e, f in logged if e == "signing_key_rotated" and f["tenant"] == tenant]
    rows = await keys_of(auto, tenant)
    assert entry["kid"] == rows[-1].kid
    assert entry["active_from"] == rows[-1].active_from.isoformat()
    assert entry["old_keys_until"] == rows[0].retired_at.isoformat()  # type: ignore[union-attr]


async def test_a_tenant_without_keys_gets_one(auto: Context, tenant: str) -> None:
    async with auto.db.transaction() as session:
        found = await TenantRepo(session).get(tenant)
        assert found is not None
        await session.execute(delete(SigningKeyRow).where(SigningKeyRow.tenant_id == found.id))
    done = rotated(await rotate_due_keys(auto, utcnow()), tenant)
    assert len(done) == 1 and done[0].retiring == []
    assert kids(await keys_of(auto, tenant)) == [done[0].key.kid]


async def test_due_tenants_are_found_across_tenants(auto: Context) -> None:
    a, b = await make_tenant(auto), await make_tenant(auto)
    await age_keys(auto, a, timedelta(days=91))
    async with auto.db.transaction() as session:
        due = await TenantRepo(session).with_keys_older_than(utcnow() - timedelta(days=90))
        ids = {
            slug: (await TenantRepo(session).get(slug)).id  # type: ignore[union-attr]
            for slug in (a, b)
        }
    assert ids[a] in due
    assert ids[b] not in due
