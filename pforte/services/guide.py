"""The permission catalogue of a tenant and the configuration guide of a client."""

from __future__ import annotations

from pforte.domain import permissions
from pforte.domain.guide import Guide, build_guide
from pforte.domain.principal import Principal
from pforte.services.clients import READ, spec_of
from pforte.services.context import Context
from pforte.services.tenants import resolve
from pforte.services.units import load_client


async def catalogue(
    ctx: Context, principal: Principal, tenant_ref: str
) -> tuple[permissions.Permission, ...]:
    async with ctx.db.transaction() as session:
        tenant = await resolve(session, principal, tenant_ref, READ)
        return permissions.grantable_in(tenant.slug)


async def guide(ctx: Context, principal: Principal, tenant_ref: str, client_id: str) -> Guide:
    async with ctx.db.transaction() as session:
        tenant = await resolve(session, principal, tenant_ref, READ)
        spec = spec_of(await load_client(session, tenant, client_id))
        return build_guide(public_url=ctx.settings.public_url, tenant_slug=tenant.slug, spec=spec)
