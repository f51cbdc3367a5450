"""Tenant lifecycle (``tenants:admin`` only); the ``system`` tenant always exists."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clock import utcnow
from pforte.domain.errors import Conflict, Forbidden, Invalid, NotFound
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import SYSTEM_TENANT, check_slug, new_id
from pforte.domain.pagination import Page, check_limit
from pforte.domain.permissions import TENANTS_ADMIN
from pforte.domain.preconditions import check_if_match
from pforte.domain.principal import Principal
from pforte.domain.tenants import Tenant
from pforte.security.keys import ALGORITHMS
from pforte.services import audit, changes, keys
from pforte.services.consoles import insert_console_clients
from pforte.services.context import Context
from pforte.services.keys import KeyState, create_signing_key
from pforte.services.records import tenant_of
from pforte.services.roles import insert_admin_role
from pforte.services.units import existing, hold_tenant, tenant_read, tenant_unit
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo
from pforte.store.tables import TenantRow


@dataclass(frozen=True, slots=True)
class TenantCreate:
    slug: str
    display_name: str | None = None
    signing_alg: str = "ES256"


def _operator(principal: Principal) -> None:
    if not principal.is_operator:
        raise Forbidden(
            f"the permission {TENANTS_ADMIN} of the system tenant is required", scope=TENANTS_ADMIN
        )


async def insert_tenant(
    session: AsyncSession, ctx: Context, *, actor: Actor, data: TenantCreate
) -> TenantRow:
    check_slug(data.slug)
    if data.signing_alg not in ALGORITHMS:
        raise Invalid("signingAlg", f"must be one of {', '.join(ALGORITHMS)}")
    repo = TenantRepo(session)
    if await repo.get(data.slug) is not None:
        raise Conflict(f"a tenant with slug {data.slug!r} exists")
    now = utcnow()
    tenant = TenantRow(
        id=new_id(),
        slug=data.slug,
        display_name=data.display_name or data.slug,
        signing_alg=data.signing_alg,
        created_at=now,
        updated_at=now,
        version=1,
    )
    repo.add(tenant)
    await session.flush()
    changes = {"slug": tenant.slug, "displayName": tenant.display_name, "signingAlg": tenant.signing_alg}
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        event=Event(EventName.TENANT_CREATED, "tenant", tenant.slug, changes),
    )
    create_signing_key(session, sealer=ctx.sealer, tenant=tenant, actor=actor)
    insert_admin_role(session, tenant)
    insert_console_clients(session, ctx.settings, tenant, actor)
    return tenant


async def create_tenant(ctx: Context, principal: Principal, data: TenantCreate) -> Tenant:
    _operator(principal)
    try:
        async with ctx.db.transaction() as session:
            return tenant_of(await insert_tenant(session, ctx, actor=principal.actor, data=data))
    except IntegrityError:  # a concurrent create won the race
        raise Conflict(f"a tenant with slug {data.slug!r} exists") from None


async def list_tenants(
    ctx: Context, principal: Principal, *, cursor: str | None, limit: int | None
) -> Page[Tenant]:
    _operator(principal)
    async with ctx.db.transaction() as session:
        page = await TenantRepo(session).page(
            cursor=cursor, limit=check_limit(limit, ctx.settings.page_size_max)
        )
    return page.map(tenant_of)


async def by_slug(ctx: Context, slug: str) -> Tenant:
    """A tenant by the slug of its issuer path (protocol endpoints; no principal)."""
    async with ctx.db.transaction() as session:
        tenant = await TenantRepo(session).get_by_slug(slug)
    if tenant is None:
        raise NotFound(f"tenant {slug!r} does not exist")
    return tenant_of(tenant)


async def get_tenant(ctx: Context, principal: Principal, ref: str) -> Tenant:
    _operator(principal)
    async with ctx.db.transaction() as session:
        return tenant_of(await existing(session, ref))


async def _held(session: AsyncSession, ref: str, if_match: str | None) -> TenantRow:
    """The tenant ``ref`` names, held for this transaction, at the version ``If-Match`` names."""
    tenant = await hold_tenant(session, await existing(session, ref), ref)
    check_if_match(if_match, tenant.version)
    return tenant


async def update_tenant(
    ctx: Context, principal: Principal, ref: str, *, display_name: str | None, if_match: str | None = None
) -> Tenant:
    _operator(principal)
    async with ctx.db.transaction() as session:
        tenant = await _held(session, ref, if_match)
        changes: dict[str, object] = {}
        if display_name is not None and display_name != tenant.display_name:
            changes["displayName"] = {"from": tenant.display_name, "to": display_name}
            tenant.display_name = display_name
        if changes:
            tenant.updated_at = utcnow()
            tenant.version += 1
            audit.record(
                session,
                tenant_id=tenant.id,
                actor=principal.actor,
                event=Event(EventName.TENANT_UPDATED, "tenant", tenant.slug, changes),
            )
        return tenant_of(tenant)


async def delete_tenant(ctx: Context, principal: Principal, ref: str, *, if_match: str | None = None) -> None:
    _operator(principal)
    async with ctx.db.transaction() as session:
        repo = TenantRepo(session)
        tenant = await _held(session, ref, if_match)
        if tenant.slug == SYSTEM_TENANT:
            raise Conflict("the system tenant cannot be deleted")
        system = await repo.get(SYSTEM_TENANT)
        assert system is not None
        await repo.delete(tenant.id)
        # The tenant's own events go with it; the operator's tenant keeps the record of the deletion.
        audit.record(
            session,
            tenant_id=system.id,
            actor=principal.actor,
            event=Event(EventName.TENANT_DELETED, "tenant", tenant.slug, {"id": str(tenant.id)}),
        )
        changes.tenant_changed(session, tenant.id)  # every process forgets the tenant, its keys and clients


# --- signing keys: administration of the tenant itself, like its other settings (tenants:admin) ---


async def list_signing_keys(ctx: Context, principal: Principal, ref: str) -> list[KeyState]:
    """The tenant's published keys, oldest first, each with its status now."""
    async with tenant_read(ctx, principal, ref, TENANTS_ADMIN) as unit:
        rows = await SigningKeyRepo(unit.session).list(unit.tenant.id)
    return keys.states(rows, utcnow())


async def rotate_signing_key(ctx: Context, principal: Principal, ref: str) -> KeyState:
    """A new signing key for the tenant (rotation with overlap); the new key and its status."""
    now = utcnow()
    async with tenant_unit(ctx, principal, ref, TENANTS_ADMIN) as unit:
        rotation = await keys.rotate_locked(
            unit.session, ctx, tenant=unit.tenant, actor=principal.actor, now=now
        )
    return rotation.state()
