"""The units of work of the admin use cases: resolve the tenant, then hold what is changed.

Every use case starts with the same prelude — a transaction, the tenant the principal names
(``resolve``: 403 for another tenant's credential, 404 for none), often a client of it — and
takes it from here. Reads take ``tenant_read`` / ``client_read``: nothing is held. A change
that checks an invariant takes ``tenant_unit`` / ``client_unit``: one transaction that first
holds the row of the aggregate the invariant belongs to, reads the state it will change only
then, and checks the state it writes before committing:

- a client's secrets, API keys and fields belong to the client: ``client_unit`` holds its row,
  so at most ten live secrets and the rules between fields hold under parallel requests, and a
  client deleted meanwhile is a clean 404 (never a foreign-key error);
- the clients of a tenant belong to the tenant: ``tenant_unit(shared=True)`` keeps the tenant
  from being deleted while a client is added;
- in ``system``, the last way in with ``tenants:admin`` belongs to the tenant: every client
  change there also holds the tenant row, and is refused if it leaves no way in (``lockout``).

``If-Match`` is checked against the version of what is held (412 on a mismatch). The units
carry rows: they live inside the services, which return records (``services.records``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.errors import Forbidden, NotFound
from pforte.domain.ids import SYSTEM_TENANT
from pforte.domain.preconditions import check_if_match
from pforte.domain.principal import Principal
from pforte.services import lockout
from pforte.services.context import Context
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.tenants import TenantRepo
from pforte.store.tables import ClientRow, TenantRow


@dataclass(frozen=True, slots=True)
class TenantUnit:
    session: AsyncSession
    tenant: TenantRow


@dataclass(frozen=True, slots=True)
class ClientUnit:
    session: AsyncSession
    tenant: TenantRow
    client: ClientRow


async def existing(session: AsyncSession, ref: str) -> TenantRow:
    """The tenant ``ref`` (slug or id) names, with no principal to check (the operator's CLI)."""
    tenant = await TenantRepo(session).get(ref)
    if tenant is None:
        raise NotFound(f"tenant {ref!r} does not exist")
    return tenant


async def resolve(session: AsyncSession, principal: Principal, ref: str, permission: str) -> TenantRow:
    """The tenant ``ref`` names, if the principal may use ``permission`` there.

    A principal that is not an operator learns nothing about other tenants: whether the
    tenant exists or not, the answer is the same 403.
    """
    tenant = await TenantRepo(session).get(ref)
    if not principal.is_operator and (tenant is None or tenant.slug != principal.tenant_slug):
        raise Forbidden("this credential belongs to another tenant")
    if tenant is None:
        raise NotFound(f"tenant {ref!r} does not exist")
    principal.require(permission, tenant_slug=tenant.slug)
    return tenant


async def load_client(session: AsyncSession, tenant: TenantRow, client_id: str) -> ClientRow:
    """The client, read without holding it (for reads)."""
    row = await ClientRepo(session).get(tenant.id, client_id)
    if row is None:
        raise NotFound(f"client {client_id!r} does not exist in tenant {tenant.slug!r}")
    return row


async def hold_tenant(
    session: AsyncSession, found: TenantRow, ref: str, *, shared: bool = False
) -> TenantRow:
    """``found``'s row, held until this transaction ends (shared: only against its deletion)."""
    tenant = await TenantRepo(session).lock(found.id, shared=shared)
    if tenant is None:  # deleted since it was resolved
        raise NotFound(f"tenant {ref!r} does not exist")
    return tenant


@asynccontextmanager
async def tenant_read(
    ctx: Context, principal: Principal, tenant_ref: str, permission: str
) -> AsyncIterator[TenantUnit]:
    """A transaction reading in the tenant; nothing is held."""
    async with ctx.db.transaction() as session:
        yield TenantUnit(session, await resolve(session, principal, tenant_ref, permission))


@asynccontextmanager
async def client_read(
    ctx: Context, principal: Principal, tenant_ref: str, client_id: str, permission: str
) -> AsyncIterator[ClientUnit]:
    """A transaction reading a client of the tenant; nothing is held."""
    async with tenant_read(ctx, principal, tenant_ref, permission) as unit:
        client = await load_client(unit.session, unit.tenant, client_id)
        yield ClientUnit(unit.session, unit.tenant, client)


@asynccontextmanager
async def tenant_unit(
    ctx: Context, principal: Principal, tenant_ref: str, permission: str, *, shared: bool = False
) -> AsyncIterator[TenantUnit]:
    """A transaction holding the tenant (shared: only against its deletion)."""
    async with ctx.db.transaction() as session:
        found = await resolve(session, principal, tenant_ref, permission)
        tenant = await hold_tenant(session, found, tenant_ref, shared=shared)
        yield TenantUnit(session, tenant)


@asynccontextmanager
async def client_unit(
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    client_id: str,
    permission: str,
    *,
    if_match: str | None = None,
) -> AsyncIterator[ClientUnit]:
    """A transaction holding the tenant, then the client (always in this order). In ``system``
    the tenant is held exclusively, and what the block changes is checked against the lock-out
    rule before the transaction commits."""
    async with ctx.db.transaction() as session:
        found = await resolve(session, principal, tenant_ref, permission)
        guarded = found.slug == SYSTEM_TENANT
        # Shared elsewhere: the tenant is not deleted under us (whose cascade would wait for our
        # client while we wait for its tenant: a deadlock).
        tenant = await hold_tenant(session, found, tenant_ref, shared=not guarded)
        client = await ClientRepo(session).lock(tenant.id, client_id)
        if client is None:
            raise NotFound(f"client {client_id!r} does not exist in tenant {tenant.slug!r}")
        check_if_match(if_match, client.version)
        before = await lockout.ways_in(session, tenant.id) if guarded else []
        yield ClientUnit(session, tenant, client)
        if guarded:
            await session.flush()
            lockout.refuse_last(before, await lockout.ways_in(session, tenant.id))
