"""The permission catalogue of a tenant and the configuration guide of a client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pforte.domain import permissions
from pforte.domain.clock import utcnow
from pforte.domain.credentials import newest_secret
from pforte.domain.guide import Guide, build_guide
from pforte.domain.principal import Principal
from pforte.services.clients import READ
from pforte.services.context import Context
from pforte.services.records import secret_of, spec_of
from pforte.services.units import client_read, tenant_read
from pforte.store.repos.audit import AuditRepo
from pforte.store.repos.credentials import ApiKeyRepo, SecretRepo


async def catalogue(
    ctx: Context, principal: Principal, tenant_ref: str
) -> tuple[permissions.Permission, ...]:
    async with tenant_read(ctx, principal, tenant_ref, READ) as unit:
        return permissions.grantable_in(unit.tenant.slug)


async def guide(ctx: Context, principal: Principal, tenant_ref: str, client_id: str) -> Guide:
    async with client_read(ctx, principal, tenant_ref, client_id, READ) as unit:
        spec = spec_of(unit.client)
        secrets = await SecretRepo(unit.session).all_of(unit.tenant.id, unit.client.id)
    newest = newest_secret((secret_of(r) for r in secrets), utcnow())
    return build_guide(
        public_url=ctx.settings.public_url, tenant_slug=unit.tenant.slug, spec=spec, newest_secret=newest
    )


@dataclass(frozen=True, slots=True)
class Activity:
    """One change of a client or its credentials, as the console's Activity tab shows it."""

    name: str
    actor: str
    target_type: str
    target_id: str
    changes: dict[str, Any]
    created_at: datetime


async def activity(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str, *, limit: int = 100
) -> list[Activity]:
    """The client's audit events and its current credentials', newest first (each change with
    its fields' ``{from, to}``, who, and when)."""
    async with client_read(ctx, principal, tenant_ref, client_id, READ) as unit:
        secrets = await SecretRepo(unit.session).all_of(unit.tenant.id, unit.client.id)
        keys = await ApiKeyRepo(unit.session).page(unit.tenant.id, unit.client.id, cursor=None, limit=1000)
        ids = [str(s.id) for s in secrets] + [str(k.id) for k in keys.items]
        rows = await AuditRepo(unit.session).of_client(unit.tenant.id, client_id, ids, limit=limit)
    return [
        Activity(r.name, r.actor, r.target_type, r.target_id, dict(r.changes), r.created_at) for r in rows
    ]


async def created_by(ctx: Context, principal: Principal, tenant_ref: str, client_id: str) -> str | None:
    """Who created the client, as its ``client.created`` event names them (None if the event is
    gone with an older database's history)."""
    async with client_read(ctx, principal, tenant_ref, client_id, READ) as unit:
        rows = await AuditRepo(unit.session).of_client(unit.tenant.id, client_id, (), limit=1000)
    return next((r.actor for r in rows if r.name == "client.created"), None)
