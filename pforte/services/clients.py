"""Client CRUD. A confidential client's first secret is created with it and returned once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy.exc import IntegrityError

from pforte.domain.clients import LIST_SORTS, Client, ClientSpec, validate
from pforte.domain.clock import utcnow
from pforte.domain.consoles import BUILTIN_CLIENT_IDS, MANAGED_FIELDS
from pforte.domain.errors import Conflict, Invalid, NotFound
from pforte.domain.events import Event, EventName
from pforte.domain.ids import new_id
from pforte.domain.pagination import Page, check_limit
from pforte.domain.principal import Principal
from pforte.domain.text import has_control
from pforte.services import audit
from pforte.services.context import Context
from pforte.services.credentials import CreatedSecret, SecretRequest, issue_secret
from pforte.services.records import client_of, spec_of
from pforte.services.roles import require_role
from pforte.services.units import client_read, client_unit, tenant_read, tenant_unit
from pforte.store.repos.clients import ClientRepo
from pforte.store.tables import ClientRow

READ, WRITE = "clients:read", "clients:write"


async def create_client(
    ctx: Context, principal: Principal, tenant_ref: str, spec: ClientSpec
) -> tuple[Client, CreatedSecret | None]:
    try:
        async with tenant_unit(ctx, principal, tenant_ref, WRITE, shared=True) as unit:
            session, tenant = unit.session, unit.tenant
            spec = validate(spec, tenant_slug=tenant.slug)
            if spec.client_id in BUILTIN_CLIENT_IDS:
                raise Conflict(f"the clientId {spec.client_id!r} is reserved for a built-in console client")
            principal.require_all(spec.permissions())
            await require_role(session, tenant, spec.restrict_to_role, field="restrictToRole")
            repo = ClientRepo(session)
            if await repo.get(tenant.id, spec.client_id) is not None:
                raise Conflict(f"a client with clientId {spec.client_id!r} exists in this tenant")
            now = utcnow()
            row = ClientRow(
                id=new_id(), tenant_id=tenant.id, created_at=now, updated_at=now, version=1, **asdict(spec)
            )
            repo.add(row)
            await session.flush()
            fields = {to_camel(k): v for k, v in asdict(spec).items()}
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
            return client_of(row), secret
    except IntegrityError:  # a concurrent create of the same clientId won the race
        raise Conflict(f"a client with clientId {spec.client_id!r} exists in this tenant") from None


async def get_client(ctx: Context, principal: Principal, tenant_ref: str, client_id: str) -> Client:
    async with client_read(ctx, principal, tenant_ref, client_id, READ) as unit:
        return client_of(unit.client)


async def list_clients(
    ctx: Context, principal: Principal, tenant_ref: str, *, cursor: str | None, limit: int | None
) -> Page[Client]:
    async with tenant_read(ctx, principal, tenant_ref, READ) as unit:
        size = check_limit(limit, ctx.settings.page_size_max)
        page = await ClientRepo(unit.session).page(unit.tenant.id, cursor=cursor, limit=size)
    return page.map(client_of)


@dataclass(frozen=True, slots=True)
class ReadOnly:
    """The read-only members of a client's GET, sent back with a PUT (or PATCH): ignored when
    equal to what is stored, refused when not (a tool must not believe it changed them)."""

    id: uuid.UUID | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


def _check_read_only(row: ClientRow, given: ReadOnly) -> None:
    for name in ("id", "created_at", "updated_at"):
        value = getattr(given, name)
        if value is not None and value != getattr(row, name):
            raise Invalid(to_camel(name), "is read-only and differs from the stored value; leave it out")


async def replace_client(
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    client_id: str,
    spec: ClientSpec,
    *,
    read_only: ReadOnly = ReadOnly(),
    if_match: str | None = None,
) -> Client:
    """PUT: every field not given takes its default."""
    return await _update(
        ctx, principal, tenant_ref, client_id, lambda _old: spec, read_only=read_only, if_match=if_match
    )


async def patch_client(
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    client_id: str,
    changes: dict[str, Any],
    *,
    read_only: ReadOnly = ReadOnly(),
    if_match: str | None = None,
) -> Client:
    """PATCH (JSON merge patch, RFC 7396): only the fields given change."""
    return await _update(
        ctx,
        principal,
        tenant_ref,
        client_id,
        lambda old: replace(old, **changes),
        read_only=read_only,
        if_match=if_match,
    )


def _keep_managed(old: ClientSpec, new: ClientSpec) -> None:
    """The server sets what a console's client needs to work (``domain.consoles``)."""
    for name in MANAGED_FIELDS:
        if getattr(new, name) != getattr(old, name):
            raise Invalid(to_camel(name), "is set by the server for a built-in console client")


async def _update(
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    client_id: str,
    change: Callable[[ClientSpec], ClientSpec],
    *,
    read_only: ReadOnly,
    if_match: str | None,
) -> Client:
    async with client_unit(ctx, principal, tenant_ref, client_id, WRITE, if_match=if_match) as unit:
        row = unit.client
        _check_read_only(row, read_only)
        old = spec_of(row)
        new = change(old)
        if new.client_id != client_id:
            raise Invalid("clientId", "cannot be changed; create a new client instead")
        new = validate(new, tenant_slug=unit.tenant.slug)
        if client_id in BUILTIN_CLIENT_IDS:
            _keep_managed(old, new)
        if new.restrict_to_role != old.restrict_to_role:
            await require_role(unit.session, unit.tenant, new.restrict_to_role, field="restrictToRole")
        # Only what the change adds is a grant; what the client already holds is not.
        principal.require_all(new.permissions() - old.permissions())
        old_fields, new_fields = asdict(old), asdict(new)
        diff = {
            to_camel(k): {"from": old_fields[k], "to": v} for k, v in new_fields.items() if old_fields[k] != v
        }
        if diff:
            for name, value in new_fields.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            row.version += 1
            audit.record(
                unit.session,
                tenant_id=unit.tenant.id,
                actor=principal.actor,
                event=Event(EventName.CLIENT_UPDATED, "client", client_id, diff),
            )
        updated = client_of(row)
    return updated


async def delete_client(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str, *, if_match: str | None = None
) -> None:
    """Its secrets and API keys go with it (ON DELETE CASCADE), and stop working at once."""
    async with client_unit(ctx, principal, tenant_ref, client_id, WRITE, if_match=if_match) as unit:
        if client_id in BUILTIN_CLIENT_IDS:
            raise Conflict(f"{client_id!r} is a built-in console client and cannot be deleted")
        principal.require_all(spec_of(unit.client).permissions())
        if not await ClientRepo(unit.session).delete(unit.tenant.id, client_id):
            raise NotFound(f"client {client_id!r} does not exist in tenant {unit.tenant.slug!r}")
        audit.record(
            unit.session,
            tenant_id=unit.tenant.id,
            actor=principal.actor,
            event=Event(EventName.CLIENT_DELETED, "client", client_id),
        )


async def search_clients(
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    *,
    query: str,
    sort: str,
    cursor: str | None,
    limit: int | None,
) -> Page[Client]:
    """The console's list: clientId or name starting with ``query`` (any case), sorted by
    ``sort`` ("name", "clientId", "created": newest first), keyset pages."""
    if sort not in LIST_SORTS:
        raise Invalid("sort", f"must be one of {', '.join(LIST_SORTS)}")
    if len(query) > 200 or has_control(query):
        raise Invalid("q", "must be at most 200 characters, without control characters")
    async with tenant_read(ctx, principal, tenant_ref, READ) as unit:
        size = check_limit(limit, ctx.settings.page_size_max)
        page = await ClientRepo(unit.session).listing(
            unit.tenant.id, query=query.strip(), sort=sort, cursor=cursor, limit=size
        )
    return page.map(client_of)
