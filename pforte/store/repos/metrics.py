"""The Metric API's daily counts and active users (``DailyCountRow``, ``DailyActiveUserRow``).

Counts are added in batches as upserts, ``value = value + :n`` (``INSERT … ON CONFLICT DO
UPDATE``, which SQLite and PostgreSQL both speak); active users are inserted or ignored and
counted when read.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.metrics import DayRange
from pforte.store.repos.scoping import scoped_select
from pforte.store.tables import DailyActiveUserRow, DailyCountRow

COUNTS = ("tokens_issued", "failed_client_authentications", "sign_ins", "sign_in_failures")


class MetricRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: type[DailyCountRow] | type[DailyActiveUserRow]) -> Any:
        dialect = self.session.get_bind().dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)

    async def add_counts(self, rows: list[dict[str, Any]]) -> None:
        """Add each row's counts to its (tenant, day, client): rows carry their tenant."""
        if not rows:
            return
        stmt = self._insert(DailyCountRow)
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "day", "client_id"],
            set_={name: getattr(DailyCountRow, name) + getattr(stmt.excluded, name) for name in COUNTS},
        )
        await self._execute(stmt, rows)

    async def add_active(self, rows: list[dict[str, Any]]) -> None:
        """Note each (tenant, day, client, user) once: a second note of the same changes nothing."""
        if rows:
            await self._execute(self._insert(DailyActiveUserRow).on_conflict_do_nothing(), rows)

    async def _execute(self, stmt: Insert, rows: list[dict[str, Any]]) -> None:
        # On the connection: given a list, ``Session.execute`` would take an ORM bulk path.
        await (await self.session.connection()).execute(stmt, rows)

    async def counts(
        self, tenant_id: uuid.UUID, days: DayRange, client_id: str | None
    ) -> list[DailyCountRow]:
        """The (day, client) rows of the range, by day and client."""
        stmt = scoped_select(DailyCountRow, tenant_id).where(DailyCountRow.day.between(days.first, days.last))
        if client_id is not None:
            stmt = stmt.where(DailyCountRow.client_id == client_id)
        stmt = stmt.order_by(DailyCountRow.day, DailyCountRow.client_id)
        return list((await self.session.scalars(stmt)).all())

    async def active_users(
        self, tenant_id: uuid.UUID, days: DayRange, client_id: str | None
    ) -> dict[tuple[date, str | None], int]:
        """Distinct active users per (day, client), and per (day, None): of the whole tenant
        (a user active at two clients counts once there)."""
        scoped = scoped_select(DailyActiveUserRow, tenant_id).where(
            DailyActiveUserRow.day.between(days.first, days.last)
        )
        if client_id is not None:
            scoped = scoped.where(DailyActiveUserRow.client_id == client_id)
        rows = scoped.subquery()
        per_client = select(rows.c.day, rows.c.client_id, func.count()).group_by(rows.c.day, rows.c.client_id)
        per_day = select(rows.c.day, func.count(func.distinct(rows.c.user_id))).group_by(rows.c.day)
        found: dict[tuple[date, str | None], int] = {}
        for day, client, n in (await self.session.execute(per_client)).all():
            found[(day, client)] = n
        for day, n in (await self.session.execute(per_day)).all():
            found[(day, None)] = n
        return found
