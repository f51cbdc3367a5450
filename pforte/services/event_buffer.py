"""The token endpoint's events and the Metric API's counts, written in batches.

A token request must not wait for a database write: ``token_issued`` and
``authentication_failed`` append one tuple to a list, nothing more. ``flush`` writes what was
noted in one transaction — the events as one multi-row INSERT, the day's counts as upserts
(``value = value + n``), the active users as insert-or-ignore — every ``FLUSH_INTERVAL``
seconds, at once when ``FLUSH_AT`` rows wait, and at shutdown (``services.feed``).

What a crash (or ``kill -9``) can lose is what waited: at most a flush interval. A database
that cannot take the rows keeps them here up to ``HARD_CAP``; beyond it the oldest events go
(counted in ``dropped``, logged), their counts kept. Sign-ins are written in their own
transaction (``services.sessions``); only their counts come through here.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from pforte.domain.clock import epoch_micros, from_epoch_micros
from pforte.domain.event_log import sent_client_id
from pforte.domain.events import EventName
from pforte.domain.metrics import NO_CLIENT
from pforte.observability import current_request_id, log
from pforte.store.engine import Database
from pforte.store.repos.audit import AuditRepo, BatchedEvent
from pforte.store.repos.metrics import MetricRepo
from pforte.store.repos.tenants import TenantRepo

T = TypeVar("T")
FLUSH_INTERVAL = 1.0
FLUSH_AT = 5_000
WRITE_SLICE = 512
HARD_CAP = 100_000

TOKEN_ISSUED = EventName.TOKEN_ISSUED.value
AUTHENTICATION_FAILED = EventName.CLIENT_AUTHENTICATION_FAILED.value
# The count each kind of noted event adds to (``DailyCountRow``'s columns).
TOKENS, FAILED_AUTHENTICATIONS, SIGN_INS, SIGN_IN_FAILURES = range(4)

# A noted event is an ``audit.BatchedEvent``: the values the row is made of, in the order the
# SQLite statement takes them — appended on the hot path, handed to the driver as they are.
MICROS_A_DAY = 86_400_000_000
CountKey = tuple[uuid.UUID, date, str]  # tenant id, UTC day, client id
ActiveKey = tuple[uuid.UUID, date, str, uuid.UUID]  # ... and the user


class EventBuffer:
    def __init__(self, *, flush_at: int = FLUSH_AT, hard_cap: int = HARD_CAP) -> None:
        self._events: list[BatchedEvent] = []
        self._tenant_hex: dict[uuid.UUID, str] = {}
        self._counts: dict[CountKey, list[int]] = {}
        self._active: set[ActiveKey] = set()
        self._flush_at = flush_at
        self._hard_cap = hard_cap
        self._full = asyncio.Event()
        self.dropped = 0

    # --- noting (the hot path: an append) --------------------------------------------------

    def token_issued(
        self,
        tenant_id: uuid.UUID,
        tenant_slug: str,
        at: datetime,
        client_id: str,
        user_id: str | None,
        grant_type: str,
        scope: str | None,
        jti: str | None,
    ) -> None:
        """An access token was issued at ``/token`` (any grant); ``user_id`` for a user's token."""
        events = self._events
        events.append(
            (
                TOKEN_ISSUED,
                self._hex(tenant_id),
                tenant_slug,
                epoch_micros(at),
                client_id,
                user_id,
                grant_type,
                scope,
                jti,
                current_request_id(),
            )
        )
        if len(events) >= self._flush_at:
            self._filled()

    def authentication_failed(
        self, tenant_id: uuid.UUID, tenant_slug: str, at: datetime, client_id: str
    ) -> None:
        """A client failed to authenticate as ``client_id`` (as sent: stripped and bounded here)."""
        events = self._events
        events.append(
            (
                AUTHENTICATION_FAILED,
                self._hex(tenant_id),
                tenant_slug,
                epoch_micros(at),
                sent_client_id(client_id),
                None,
                "invalid_client",
                None,
                None,
                current_request_id(),
            )
        )
        if len(events) >= self._flush_at:
            self._filled()

    def _hex(self, tenant_id: uuid.UUID) -> str:
        known = self._tenant_hex.get(tenant_id)
        if known is None:
            if len(self._tenant_hex) > 10_000:  # tenants come and go: bounded
                self._tenant_hex.clear()
            known = self._tenant_hex[tenant_id] = tenant_id.hex
        return known

    def signed_in(self, tenant_id: uuid.UUID, at: datetime, client_id: str, user_id: uuid.UUID) -> None:
        """Counts of a sign-in (its event is written with the session)."""
        day = at.date()
        self._add((tenant_id, day, client_id), SIGN_INS, 1)
        self._active.add((tenant_id, day, client_id, user_id))

    def sign_in_failed(self, tenant_id: uuid.UUID, at: datetime, client_id: str | None) -> None:
        self._add((tenant_id, at.date(), client_id or NO_CLIENT), SIGN_IN_FAILURES, 1)

    @property
    def pending(self) -> int:
        return len(self._events)

    async def wait(self, interval: float) -> None:
        """Until ``interval`` seconds passed or ``FLUSH_AT`` events wait, whichever is first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._full.wait(), interval)
        self._full.clear()

    def _filled(self) -> None:
        self._full.set()
        if len(self._events) > self._hard_cap:
            self._drop_oldest(len(self._events) - self._hard_cap * 9 // 10)

    def _drop_oldest(self, n: int) -> None:
        """Memory is bounded whatever the database does: the oldest ``n`` events go (their
        counts stay, folded into the counts that wait)."""
        gone, self._events = self._events[:n], self._events[n:]
        _fold(gone, self._counts, self._active)
        self.dropped += n
        log.warning("events_dropped", dropped=n, dropped_total=self.dropped, pending=len(self._events))

    def _add(self, key: CountKey, column: int, n: int) -> None:
        counts = self._counts.get(key)
        if counts is None:
            counts = self._counts[key] = [0, 0, 0, 0]
        counts[column] += n

    # --- flushing --------------------------------------------------------------------------

    async def flush(self, db: Database) -> int:
        """Write what waits in one transaction; how many events. On failure everything is kept
        for the next flush (and ``HARD_CAP`` holds)."""
        events, self._events = self._events, []
        counts, self._counts = self._counts, {}
        active, self._active = self._active, set()
        if not (events or counts or active):
            return 0
        all_counts = {key: list(values) for key, values in counts.items()}
        all_active = set(active)
        _fold(events, all_counts, all_active)
        try:
            try:
                await _write(db, events, all_counts, all_active, None)
            except IntegrityError:  # a tenant was deleted meanwhile: its rows go with it
                tenants = {uuid.UUID(h) for h in {e[1] for e in events}}
                tenants |= {k[0] for k in all_counts} | {k[0] for k in all_active}
                async with db.transaction() as session:
                    live = await TenantRepo(session).existing(tenants)
                await _write(db, events, all_counts, all_active, live)
        except BaseException:
            self._events[:0] = events
            for key, values in counts.items():
                for column, n in enumerate(values):
                    self._add(key, column, n)
            self._active |= active
            if len(self._events) > self._hard_cap:
                self._drop_oldest(len(self._events) - self._hard_cap)
            raise
        return len(events)


async def _write(
    db: Database,
    events: list[BatchedEvent],
    counts: dict[CountKey, list[int]],
    active: set[ActiveKey],
    live: set[uuid.UUID] | None,
) -> None:
    """One transaction: the events, the counts and the active users (of ``live`` tenants only,
    when given)."""
    async with db.transaction() as session:
        audit, metrics = AuditRepo(session), MetricRepo(session)
        # In slices: the driver's thread writes one while the loop serves requests (making the
        # rows of one 5,000-event list held the loop for tens of milliseconds: the token
        # endpoint's p99 tripled).
        alive = None if live is None else {tenant.hex for tenant in live}
        for part in _slices([e for e in events if alive is None or e[1] in alive]):
            await audit.add_batched(part)
        for keys in _slices([k for k in counts if live is None or k[0] in live]):
            await metrics.add_counts([_count(k, counts[k]) for k in keys])
        for users in _slices([k for k in active if live is None or k[0] in live]):
            await metrics.add_active([_active(k) for k in users])


def _slices(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), WRITE_SLICE):
        yield items[start : start + WRITE_SLICE]


def _fold(events: Iterable[BatchedEvent], counts: dict[CountKey, list[int]], active: set[ActiveKey]) -> None:
    """Add what ``events`` count to ``counts`` and ``active``."""
    tenants: dict[str, uuid.UUID] = {}
    days: dict[int, date] = {}
    for name, tenant_hex, _slug, micros, client_id, user_id, *_rest in events:
        tenant_id = tenants.get(tenant_hex)
        if tenant_id is None:
            tenant_id = tenants[tenant_hex] = uuid.UUID(tenant_hex)
        day_number = micros // MICROS_A_DAY
        day = days.get(day_number)
        if day is None:
            day = days[day_number] = from_epoch_micros(day_number * MICROS_A_DAY).date()
        key = (tenant_id, day, client_id)
        values = counts.get(key)
        if values is None:
            values = counts[key] = [0, 0, 0, 0]
        if name == TOKEN_ISSUED:
            values[TOKENS] += 1
            if user_id is not None:
                active.add((tenant_id, day, client_id, uuid.UUID(user_id)))
        else:
            values[FAILED_AUTHENTICATIONS] += 1


def _count(key: CountKey, values: list[int]) -> dict[str, Any]:
    tenant_id, day, client_id = key
    tokens, failed, sign_ins, sign_in_failures = values
    return {
        "tenant_id": tenant_id,
        "day": day,
        "client_id": client_id,
        "tokens_issued": tokens,
        "failed_client_authentications": failed,
        "sign_ins": sign_ins,
        "sign_in_failures": sign_in_failures,
    }


def _active(key: ActiveKey) -> dict[str, Any]:
    tenant_id, day, client_id, user_id = key
    return {"tenant_id": tenant_id, "day": day, "client_id": client_id, "user_id": user_id}
