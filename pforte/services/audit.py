"""Audit: record an event inside the caller's transaction.

Every change made through the admin API (or the CLI, or the server itself) passes here, so
this is also where the change is published for the caches of every process.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clock import utcnow
from pforte.domain.events import Actor, Event
from pforte.domain.ids import id_at
from pforte.observability import current_request_id
from pforte.services import changes
from pforte.store.repos.audit import AuditRepo
from pforte.store.tables import AuditEventRow


def record(
    session: AsyncSession, *, tenant_id: uuid.UUID, actor: Actor, event: Event, publish: bool = True
) -> None:
    """Write ``event`` in the caller's transaction; ``publish=False`` for events that change
    nothing a cache holds (a sign-in, a consent): the caches of every process stay warm."""
    client_id, user_id = event.subjects()
    now = utcnow()
    AuditRepo(session).add(
        AuditEventRow(
            id=id_at(now),  # ordered as createdAt, also among events written in batches
            tenant_id=tenant_id,
            name=event.name.value,
            actor=actor.label(),
            actor_tenant=actor.tenant,
            actor_client_id=actor.client_id,
            target_type=event.target_type,
            target_id=event.target_id,
            changes=event.changes,
            request_id=current_request_id(),
            created_at=now,
            client_id=client_id,
            user_id=_uuid(user_id),
        )
    )
    if publish:
        changes.tenant_changed(session, tenant_id)


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value is not None else None
    except ValueError:
        return None
