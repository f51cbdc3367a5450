"""The token endpoint's batched events: what the SQLite statement makes of the noted values is
row for row what ``batched_rows`` makes of them in Python (and writes on PostgreSQL) — ids,
times, actors, targets, the changes' JSON — for hostile values too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from pforte.domain.clock import epoch_micros
from pforte.services.context import Context
from pforte.store.repos.audit import COLUMNS, PART_SIZES, AuditRepo, BatchedEvent, batched_rows
from pforte.store.tables import AuditEventRow
from tests.conftest import make_tenant, tenant_id_of

pytestmark = pytest.mark.anyio

USER = uuid.UUID("0192f0c4-5b6e-7c3d-8e9f-a0b1c2d3e4f5")
MOMENTS = [
    datetime(2026, 12, 6, 15, 0, 0, 0, tzinfo=UTC),
    datetime(2026, 12, 6, 15, 0, 0, 999_999, tzinfo=UTC),
    datetime(2026, 12, 6, 23, 59, 59, 999_500, tzinfo=UTC),
    datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=UTC),
]
SCOPES = [None, "", "a b", 'quote" back\\slash', "line\nbreak\ttab\x01", "Übergröße ✓ 𝄞", "</script>"]


def noted(tenant: uuid.UUID) -> list[BatchedEvent]:
    events: list[BatchedEvent] = []
    for i, moment in enumerate(MOMENTS * 5):
        scope = SCOPES[i % len(SCOPES)]
        user = str(USER) if i % 3 == 0 else None
        jti = None if i % 11 == 5 else f"jti-{i:03d}"
        events.append(
            ("token.issued", tenant.hex, "acme", epoch_micros(moment), f"app.{i}~x", user,
             "client_credentials", scope, jti, f"req-{i}" if i % 2 else None)
        )  # fmt: skip
    for i, sent in enumerate(["", "who\"am'i", "𝄞" * 3, "a" * 128]):
        events.append(
            ("client.authentication_failed", tenant.hex, "acme", epoch_micros(MOMENTS[i]), sent, None,
             "invalid_client", None, None, None)
        )  # fmt: skip
    return events


async def written(ctx: Context, events: list[BatchedEvent], *order: Any) -> list[AuditEventRow]:
    """Write ``events`` of one tenant in one transaction; read that tenant's back, in ``order``."""
    async with ctx.db.transaction() as session:
        await AuditRepo(session).add_batched(events)
    tenant = uuid.UUID(events[0][1])
    async with ctx.db.transaction() as session:
        stmt = select(AuditEventRow).where(
            AuditEventRow.tenant_id == tenant, AuditEventRow.actor_tenant == "acme"
        )
        return list((await session.scalars(stmt.order_by(*order))).all())


def as_values(row: AuditEventRow) -> dict[str, object]:
    return {column: getattr(row, column) for column in COLUMNS}


async def test_the_statement_makes_the_rows_batched_rows_makes(ctx: Context) -> None:
    tenant = await tenant_id_of(ctx, await make_tenant(ctx))
    events = noted(tenant)
    assert len(events) > PART_SIZES[-1]  # more than one part
    rows = await written(ctx, events, AuditEventRow.created_at, AuditEventRow.name, AuditEventRow.target_id)
    expected = sorted(batched_rows(events), key=lambda values: (values[10], values[2], values[7]))
    assert len(rows) == len(expected) == len(events)
    for row, values in zip(rows, expected, strict=True):
        want = dict(zip(COLUMNS, values, strict=True))
        got = as_values(row)
        # The id: the same moment bits (48 of milliseconds, version 7, 12 of the fraction),
        # variant 0b10, random bits after.
        assert row.id.version == 7
        assert row.id.int >> 64 == int(str(want.pop("id")), 16) >> 64
        assert (row.id.int >> 62) & 0b11 == 0b10
        got.pop("id")
        assert got.pop("tenant_id") == uuid.UUID(str(want.pop("tenant_id")))
        assert got.pop("changes") == orjson.loads(str(want.pop("changes")))
        user = want.pop("user_id")
        assert got.pop("user_id") == (None if user is None else uuid.UUID(str(user)))
        assert got == want


async def test_ids_order_as_the_moments(ctx: Context) -> None:
    tenant = await tenant_id_of(ctx, await make_tenant(ctx))
    start = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    moments = [start + timedelta(microseconds=n * 997) for n in range(300)]
    events: list[BatchedEvent] = [
        (
            "token.issued",
            tenant.hex,
            "acme",
            epoch_micros(m),
            "svc",
            None,
            "client_credentials",
            None,
            f"j{n}",
            None,
        )
        for n, m in enumerate(moments)
    ]
    rows = await written(ctx, events, AuditEventRow.id)
    assert [r.created_at for r in rows] == moments
    assert [r.target_id for r in rows] == [f"j{n}" for n in range(300)]
