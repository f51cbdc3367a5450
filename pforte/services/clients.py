"""Client CRUD. A confidential client's first secret is created with it and returned once."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clients import SPEC_FIELDS, ClientSpec, validate
from pforte.domain.errors import Conflict, Invalid, NotFound
from pforte.domain.events import Event, EventName
from pforte.domain.ids import new_id
from pforte.domain.pagination import Page, check_limit
from pforte.domain.principal import Principal
from pforte.services import audit
from pforte.services.context import Context
from pforte.services.credentials import CreatedSecret, SecretRequest, issue_secret
from pforte.services.tenants import resolve
from pforte.store.base import utcnow
from pforte.store.repos.clients import ClientRepo
from pforte.store.tables import ClientRow, TenantRow

READ, WRITE = "clients:read", "clients:write"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def spec_of(row: ClientRow) -> ClientSpec:
    return ClientSpec(**{name: getattr(row, name) for name in SPEC_FIELDS})


async def load(session: AsyncSession, tenant: TenantRow, client_id: str) -> ClientRow:
    row = await ClientRepo(session).get(tenant.id, client_id)
    if row is None:
        raise NotFound(f"client {client_id!r} does not exist in tenant {tenant.slug!r}")
    return row


async def create_client(
    ctx: Context, principal: Principal, tenant_ref: str, spec: ClientSpec
) -> tuple[ClientRow, CreatedSecret | None]:
    try:
        async with ctx.db.transaction() as session:
            tenant = await resolve(session, principal, tenant_ref, WRITE)
            spec = validate(spec, tenant_slug=tenant.slug)
            principal.require_all(spec.permissions())
            repo = ClientRepo(session)
            if await repo.get(tenant.id, spec.client_id) is not None:
                raise Conflict(f"a client with clientId {spec.client_id!r} exists in this tenant")
            now = utcnow()
            row = ClientRow(id=new_id(), tenant_id=tenant.id, created_at=now, updated_at=now, **asdict(spec))
            repo.add(row)
            await session.flush()
            fields = {camel(k): v for k, v in asdict(spec).items()}
            audit.record(
                session,
                tenant_id=tenant.id,
                actor=principal.actor,
                event=Event(EventName.CLIENT_CREATED, "client", row.client_id, fields),
            )
            secret = None
            if not spec.is_public:
                secret = await issue_secret(
                    session,
                    ctx,
                    tenant=tenant,
                    client=row,
                    actor=principal.actor,
                    request=SecretRequest(description="created with the client"),
                )
            return row, secret
    except IntegrityError:  # a concurrent create of the same clientId won the race
        raise Conflict(f"a client with clientId {spec.client_id!r} exists in this tenant") from None


async def get_client(ctx: Context, principal: Principal, tenant_ref: str, client_id: str) -> ClientRow:
    async with ctx.db.transaction() as session:
        tenant = await resolve(session, principal, tenant_ref, READ)
        return await load(session, tenant, client_id)


async def list_clients(
    ctx: Context, principal: Principal, tenant_ref: str, *, cursor: str | None, limit: int | None
) -> Page[ClientRow]:
    async with ctx.db.transaction() as session:
        tenant = await resolve(session, principal, tenant_ref, READ)
        size = check_limit(limit, ctx.settings.page_size_max)
        return await ClientRepo(session).page(tenant.id, cursor=cursor, limit=size)


async def replace_client(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str, spec: ClientSpec
) -> ClientRow:
    """PUT: every field not given takes its default."""
    return await _update(ctx, principal, tenant_ref, client_id, lambda _old: spec)


async def patch_client(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str, changes: dict[str, Any]
) -> ClientRow:
    """PATCH (JSON merge patch, RFC 7396): only the fields given change."""
    return await _update(ctx, principal, tenant_ref, client_id, lambda old: replace(old, **changes))


async def _update(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str, change: Any
) -> ClientRow:
    async with ctx.db.transaction() as session:
        tenant = await resolve(session, principal, tenant_ref, WRITE)
        row = await load(session, tenant, client_id)
        old = spec_of(row)
        new: ClientSpec = change(old)
        if new.client_id != client_id:
            raise Invalid("clientId", "cannot be changed; create a new client instead")
        new = validate(new, tenant_slug=tenant.slug)
        principal.require_all(old.permissions() | new.permissions())
        old_fields, new_fields = asdict(old), asdict(new)
        diff = {
            camel(k): {"from": old_fields[k], "to": v} for k, v in new_fields.items() if old_fields[k] != v
        }
        if diff:
            for name, value in new_fields.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            audit.record(
                session,
                tenant_id=tenant.id,
                actor=principal.actor,
                event=Event(EventName.CLIENT_UPDATED, "client", client_id, diff),
            )
        return row


async def delete_client(ctx: Context, principal: Principal, tenant_ref: str, client_id: str) -> None:
    """Its secrets and API keys go with it (ON DELETE CASCADE), and stop working at once."""
    async with ctx.db.transaction() as session:
        tenant = await resolve(session, principal, tenant_ref, WRITE)
        row = await load(session, tenant, client_id)
        principal.require_all(spec_of(row).permissions())
        await ClientRepo(session).delete(tenant.id, client_id)
        audit.record(
            session,
            tenant_id=tenant.id,
            actor=principal.actor,
            event=Event(EventName.CLIENT_DELETED, "client", client_id),
        )
