"""Tenant roles and client roles (DESIGN.md §6).

Every tenant gets the built-in role ``admin`` with the tenant (``insert_admin_role``); it holds
every permission grantable there — read from the catalogue, so it grows with it — and can be
neither deleted nor changed. No principal grants what it does not hold: creating or widening
a role with a permission the caller lacks is 403, as for clients. A role named by a client's
``restrictToRole`` cannot be deleted (409) until no client names it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain import roles as rules
from pforte.domain.clock import utcnow
from pforte.domain.errors import Conflict, Invalid, NotFound
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import new_id
from pforte.domain.principal import Principal
from pforte.domain.roles import ADMIN_ROLE, ClientRole, Role
from pforte.services import audit
from pforte.services.context import Context
from pforte.services.units import client_read, client_unit, load_client, tenant_read, tenant_unit
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.users import ClientRoleRepo, RoleRepo
from pforte.store.tables import ClientRoleRow, ClientRow, RoleRow, TenantRow

READ, WRITE = "users.roles:read", "roles:write"
CLIENT_READ, CLIENT_WRITE = "clients.roles:read", "clients:write"


@dataclass(frozen=True, slots=True)
class RoleChange:
    description: str | None = None
    permissions: list[str] | None = None


def role_of(row: RoleRow, tenant_slug: str) -> Role:
    held = rules.admin_permissions(tenant_slug) if row.builtin else tuple(row.permissions)
    return Role(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        description=row.description,
        permissions=held,
        builtin=row.builtin,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def client_role_of(row: ClientRoleRow, client_id: str) -> ClientRole:
    return ClientRole(
        id=row.id,
        tenant_id=row.tenant_id,
        client_id=client_id,
        name=row.name,
        description=row.description,
        created_at=row.created_at,
    )


def insert_admin_role(session: AsyncSession, tenant: TenantRow) -> RoleRow:
    now = utcnow()
    row = RoleRow(
        id=new_id(),
        tenant_id=tenant.id,
        name=ADMIN_ROLE,
        description="Built in: every permission of this tenant.",
        permissions=list(rules.admin_permissions(tenant.slug)),
        builtin=True,
        created_at=now,
        updated_at=now,
    )
    RoleRepo(session).add(row)
    return row


async def existing_role(
    session: AsyncSession, tenant: TenantRow, name: str, *, hold: bool = False
) -> RoleRow:
    """The role ``name`` (404 if none). ``hold``: kept from deletion until the transaction ends,
    for a caller that writes rows referring to it (an assignment must not outlive its role)."""
    repo = RoleRepo(session)
    row = await repo.lock(tenant.id, name, shared=True) if hold else await repo.get(tenant.id, name)
    if row is None:
        raise NotFound(f"role {name!r} does not exist in tenant {tenant.slug!r}")
    return row


async def create_role(
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    *,
    name: str,
    description: str | None,
    permissions: list[str],
) -> Role:
    rules.check_role_name(name)
    rules.check_description(description)
    try:
        async with tenant_unit(ctx, principal, tenant_ref, WRITE, shared=True) as unit:
            held = rules.check_permissions(permissions, tenant_slug=unit.tenant.slug)
            principal.require_all(frozenset(held))
            repo = RoleRepo(unit.session)
            if await repo.get(unit.tenant.id, name) is not None:
                raise Conflict(f"a role named {name!r} exists in this tenant")
            now = utcnow()
            row = RoleRow(
                id=new_id(),
                tenant_id=unit.tenant.id,
                name=name,
                description=description,
                permissions=held,
                builtin=False,
                created_at=now,
                updated_at=now,
            )
            repo.add(row)
            await unit.session.flush()
            _audit(
                unit.session,
                unit.tenant,
                principal.actor,
                EventName.ROLE_CREATED,
                name,
                {"permissions": held},
            )
            return role_of(row, unit.tenant.slug)
    except IntegrityError:
        raise Conflict(f"a role named {name!r} exists in this tenant") from None


async def list_roles(ctx: Context, principal: Principal, tenant_ref: str) -> list[Role]:
    async with tenant_read(ctx, principal, tenant_ref, READ) as unit:
        return [role_of(r, unit.tenant.slug) for r in await RoleRepo(unit.session).all(unit.tenant.id)]


async def get_role(ctx: Context, principal: Principal, tenant_ref: str, name: str) -> Role:
    async with tenant_read(ctx, principal, tenant_ref, READ) as unit:
        return role_of(await existing_role(unit.session, unit.tenant, name), unit.tenant.slug)


async def update_role(
    ctx: Context, principal: Principal, tenant_ref: str, name: str, change: RoleChange
) -> Role:
    rules.check_description(change.description)
    async with tenant_unit(ctx, principal, tenant_ref, WRITE, shared=True) as unit:
        row = await RoleRepo(unit.session).lock(unit.tenant.id, name)
        if row is None:
            raise NotFound(f"role {name!r} does not exist in tenant {unit.tenant.slug!r}")
        diff: dict[str, object] = {}
        if change.permissions is not None:
            if row.builtin:
                raise Conflict(
                    f"the built-in role {ADMIN_ROLE!r} holds every permission; it cannot be changed"
                )
            held = rules.check_permissions(change.permissions, tenant_slug=unit.tenant.slug)
            added = frozenset(held) - frozenset(row.permissions)
            principal.require_all(added)  # judged on what the change adds
            if held != row.permissions:
                diff["permissions"] = {"from": row.permissions, "to": held}
                row.permissions = held
        if change.description is not None and change.description != row.description:
            diff["description"] = {"from": row.description, "to": change.description}
            row.description = change.description
        if diff:
            row.updated_at = utcnow()
            _audit(unit.session, unit.tenant, principal.actor, EventName.ROLE_UPDATED, name, diff)
        return role_of(row, unit.tenant.slug)


async def delete_role(ctx: Context, principal: Principal, tenant_ref: str, name: str) -> None:
    async with tenant_unit(ctx, principal, tenant_ref, WRITE, shared=True) as unit:
        repo = RoleRepo(unit.session)
        row = await repo.lock(unit.tenant.id, name)
        if row is None:
            raise NotFound(f"role {name!r} does not exist in tenant {unit.tenant.slug!r}")
        if row.builtin:
            raise Conflict(f"the built-in role {ADMIN_ROLE!r} cannot be deleted")
        principal.require_all(frozenset(row.permissions))
        users = await ClientRepo(unit.session).restricted_to(unit.tenant.id, name)
        if users:
            names = ", ".join(c.client_id for c in users[:5])
            raise Conflict(f"role {name!r} is the restrictToRole of client(s) {names}; change them first")
        await repo.delete(unit.tenant.id, name)
        _audit(unit.session, unit.tenant, principal.actor, EventName.ROLE_DELETED, name, {"id": str(row.id)})


async def require_role(session: AsyncSession, tenant: TenantRow, name: str | None, *, field: str) -> None:
    """``restrictToRole`` must name a role of the tenant (422 otherwise); the role is held against
    its deletion until the client is written (a parallel delete then sees the client, 409)."""
    if name is not None and await RoleRepo(session).lock(tenant.id, name, shared=True) is None:
        raise Invalid(field, f"names no role of this tenant: {name!r}")


# --- client roles -----------------------------------------------------------------------------


async def create_client_role(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str, *, name: str, description: str | None
) -> ClientRole:
    rules.check_role_name(name)
    rules.check_description(description)
    try:
        async with client_unit(ctx, principal, tenant_ref, client_id, CLIENT_WRITE) as unit:
            repo = ClientRoleRepo(unit.session)
            if await repo.get(unit.tenant.id, unit.client.id, name) is not None:
                raise Conflict(f"client {client_id!r} has a role named {name!r}")
            row = ClientRoleRow(
                id=new_id(),
                tenant_id=unit.tenant.id,
                client_pk=unit.client.id,
                name=name,
                description=description,
                created_at=utcnow(),
            )
            repo.add(row)
            await unit.session.flush()
            _audit(
                unit.session,
                unit.tenant,
                principal.actor,
                EventName.CLIENT_ROLE_CREATED,
                f"{client_id}/{name}",
                {},
            )
            return client_role_of(row, client_id)
    except IntegrityError:
        raise Conflict(f"client {client_id!r} has a role named {name!r}") from None


async def list_client_roles(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str
) -> list[ClientRole]:
    async with client_read(ctx, principal, tenant_ref, client_id, CLIENT_READ) as unit:
        rows = await ClientRoleRepo(unit.session).all_of(unit.tenant.id, unit.client.id)
        return [client_role_of(r, client_id) for r in rows]


async def get_client_role(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str, name: str
) -> ClientRole:
    async with client_read(ctx, principal, tenant_ref, client_id, CLIENT_READ) as unit:
        row = await ClientRoleRepo(unit.session).get(unit.tenant.id, unit.client.id, name)
        if row is None:
            raise NotFound(f"client {client_id!r} has no role named {name!r}")
        return client_role_of(row, client_id)


async def delete_client_role(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str, name: str
) -> None:
    async with client_unit(ctx, principal, tenant_ref, client_id, CLIENT_WRITE) as unit:
        if not await ClientRoleRepo(unit.session).delete(unit.tenant.id, unit.client.id, name):
            raise NotFound(f"client {client_id!r} has no role named {name!r}")
        _audit(
            unit.session,
            unit.tenant,
            principal.actor,
            EventName.CLIENT_ROLE_DELETED,
            f"{client_id}/{name}",
            {},
        )


async def existing_client_role(
    session: AsyncSession, tenant: TenantRow, client_id: str, name: str
) -> tuple[ClientRow, ClientRoleRow]:
    client = await load_client(session, tenant, client_id)
    row = await ClientRoleRepo(session).get(tenant.id, client.id, name)
    if row is None:
        raise NotFound(f"client {client_id!r} has no role named {name!r}")
    return client, row


def _audit(
    session: AsyncSession,
    tenant: TenantRow,
    actor: Actor,
    name: EventName,
    target: str,
    changes: dict[str, object],
) -> None:
    kind = name.value.split(".", 1)[0]
    audit.record(session, tenant_id=tenant.id, actor=actor, event=Event(name, kind, target, changes))
