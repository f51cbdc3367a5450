"""Audit: record an event inside the caller's transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.events import Actor, Event
from pforte.domain.ids import new_id
from pforte.observability import current_request_id
from pforte.store.base import utcnow
from pforte.store.repos.audit import AuditRepo
from pforte.store.tables import AuditEventRow


def record(session: AsyncSession, *, tenant_id: uuid.UUID, actor: Actor, event: Event) -> None:
    AuditRepo(session).add(
        AuditEventRow(
            id=new_id(),
            tenant_id=tenant_id,
            name=event.name.value,
            actor=actor.label(),
            actor_tenant=actor.tenant,
            actor_client_id=actor.client_id,
            target_type=event.target_type,
            target_id=event.target_id,
            changes=event.changes,
            request_id=current_request_id(),
            created_at=utcnow(),
        )
    )
