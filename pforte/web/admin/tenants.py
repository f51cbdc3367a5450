"""/tenants — tenant lifecycle (``tenants:admin``)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from pforte.domain.preconditions import etag
from pforte.domain.tenants import Tenant
from pforte.services import tenants as service
from pforte.services.context import Context
from pforte.web.admin.openapi import conflict
from pforte.web.admin.schemas import PageOut, TenantCreate, TenantPublic, TenantUpdate, page_out
from pforte.web.deps import ContextDep, Cursor, IfMatch, Limit, PrincipalDep, TenantRef

router = APIRouter(prefix="/tenants", tags=["tenants"])


def public(ctx: Context, tenant: Tenant, response: Response | None = None) -> TenantPublic:
    if response is not None:
        response.headers["ETag"] = etag(tenant.version)
    return TenantPublic(
        id=tenant.id,
        slug=tenant.slug,
        display_name=tenant.display_name,
        signing_alg=tenant.signing_alg,
        issuer=ctx.settings.issuer(tenant.slug),
        created_at=tenant.created_at,
        updated_at=tenant.updated_at,
    )


@router.get("", response_model=PageOut[TenantPublic], response_model_by_alias=True)
async def list_tenants(
    ctx: ContextDep, principal: PrincipalDep, cursor: Cursor = None, limit: Limit = None
) -> PageOut[TenantPublic]:
    page = await service.list_tenants(ctx, principal, cursor=cursor, limit=limit)
    return page_out(page.map(lambda tenant: public(ctx, tenant)))


@router.post("", status_code=201, response_model=TenantPublic, responses=conflict("the slug is taken"))
async def create_tenant(
    ctx: ContextDep, principal: PrincipalDep, body: TenantCreate, response: Response
) -> TenantPublic:
    data = service.TenantCreate(slug=body.slug, display_name=body.display_name, signing_alg=body.signing_alg)
    return public(ctx, await service.create_tenant(ctx, principal, data), response)


@router.get("/{tenant}", response_model=TenantPublic)
async def get_tenant(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, response: Response
) -> TenantPublic:
    return public(ctx, await service.get_tenant(ctx, principal, tenant), response)


@router.patch("/{tenant}", response_model=TenantPublic)
async def update_tenant(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    body: TenantUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> TenantPublic:
    updated = await service.update_tenant(
        ctx, principal, tenant, display_name=body.display_name, if_match=if_match
    )
    return public(ctx, updated, response)


@router.delete(
    "/{tenant}",
    status_code=204,
    response_class=Response,
    responses=conflict("the system tenant cannot be deleted"),
)
async def delete_tenant(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, if_match: IfMatch = None
) -> Response:
    await service.delete_tenant(ctx, principal, tenant, if_match=if_match)
    return Response(status_code=204)
