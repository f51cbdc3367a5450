"""Changes that make cached state stale, published in the transaction that makes them.

``publish`` writes a row to the change feed (every other process learns of it within a second:
PostgreSQL turns the row into a NOTIFY at commit, SQLite processes poll the feed) and notes the
change for this process's own caches, which apply it the moment the transaction commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clock import utcnow
from pforte.store.engine import on_commit
from pforte.store.tables import ChangeRow

TENANT = "tenant"  # anything about a tenant, its keys, clients or credentials changed
REVOKED = "revoked"  # an access token was revoked: subject is "<jti> <exp>"


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    tenant_id: uuid.UUID | None
    subject: str | None = None


def publish(session: AsyncSession, change: Change) -> None:
    if on_commit(session, change):  # once per transaction is enough
        row = ChangeRow(
            kind=change.kind, tenant_id=change.tenant_id, subject=change.subject, created_at=utcnow()
        )
        session.add(row)


def tenant_changed(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    publish(session, Change(TENANT, tenant_id))


def parse_notification(payload: str) -> tuple[int, Change] | None:
    """The ``seq`` and change of a PostgreSQL NOTIFY payload ("seq kind tenant_id subject")."""
    parts = payload.split(" ", 3)
    if len(parts) < 3:
        return None
    try:
        seq = int(parts[0])
        tenant_id = None if parts[2] == "-" else uuid.UUID(parts[2])
    except ValueError:
        return None
    subject = parts[3] if len(parts) == 4 and parts[3] else None
    return seq, Change(parts[1], tenant_id, subject)
