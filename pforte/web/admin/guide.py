"""/tenants/{tenant}/permissions and /tenants/{tenant}/clients/{clientId}/guide."""

from __future__ import annotations

from fastapi import APIRouter

from pforte.domain.permissions import Permission
from pforte.services import guide as service
from pforte.web.admin.schemas import (
    Descriptions,
    GuideApiOut,
    GuideOut,
    NewestSecretOut,
    PageOut,
    PermissionOut,
    Snippets,
)
from pforte.web.deps import ClientIdPath, ContextDep, PrincipalDep, TenantRef

router = APIRouter(prefix="/tenants/{tenant}", tags=["catalogue and guide"])


def permission_out(p: Permission) -> PermissionOut:
    return PermissionOut(
        name=p.name, api=p.api, description=Descriptions(en=p.description_en, de=p.description_de)
    )


@router.get("/permissions", response_model=PageOut[PermissionOut])
async def list_permissions(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef
) -> PageOut[PermissionOut]:
    items = [permission_out(p) for p in await service.catalogue(ctx, principal, tenant)]
    return PageOut[PermissionOut](items=items, next=None)


@router.get("/clients/{clientId}/guide", response_model=GuideOut)
async def client_guide(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, client_id: ClientIdPath
) -> GuideOut:
    g = await service.guide(ctx, principal, tenant, client_id)
    return GuideOut(
        tenant=g.tenant,
        issuer=g.issuer,
        discovery_url=g.discovery_url,
        token_url=g.token_url,
        jwks_uri=g.jwks_uri,
        client_id=g.client_id,
        client_type=g.client_type,
        token_endpoint_auth_methods=g.token_endpoint_auth_methods,
        grant_types=g.grant_types,
        permissions=[permission_out(p) for p in g.permissions],
        scopes=g.scopes,
        api_console=g.api_console,
        admin_api_base=g.admin_api_base,
        snippets=Snippets(curl=g.curl, python=g.python),
        apis=[GuideApiOut.model_validate(a, from_attributes=True) for a in g.apis],
        newest_secret=NewestSecretOut.model_validate(g.newest_secret) if g.newest_secret else None,
    )
