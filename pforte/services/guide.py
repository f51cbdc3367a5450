"""The permission catalogue of a tenant and the configuration guide of a client."""

from __future__ import annotations

from pforte.domain import permissions
from pforte.domain.guide import Guide, build_guide
from pforte.domain.principal import Principal
from pforte.services.clients import READ
from pforte.services.context import Context
from pforte.services.records import spec_of
from pforte.services.units import client_read, tenant_read


async def catalogue(
    ctx: Context, principal: Principal, tenant_ref: str
) -> tuple[permissions.Permission, ...]:
    async with tenant_read(ctx, principal, tenant_ref, READ) as unit:
        return permissions.grantable_in(unit.tenant.slug)


async def guide(ctx: Context, principal: Principal, tenant_ref: str, client_id: str) -> Guide:
    async with client_read(ctx, principal, tenant_ref, client_id, READ) as unit:
        spec = spec_of(unit.client)
        return build_guide(public_url=ctx.settings.public_url, tenant_slug=unit.tenant.slug, spec=spec)
