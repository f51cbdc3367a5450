"""/tenants/{tenant}/clients — client CRUD (``clients:read`` / ``clients:write``)."""

from __future__ import annotations

from dataclasses import fields

from fastapi import APIRouter, Response

from pforte.domain.clients import ClientSpec
from pforte.services import clients as service
from pforte.web.admin.openapi import conflict
from pforte.web.admin.schemas import (
    ClientCreate,
    ClientCreated,
    ClientPublic,
    ClientUpdate,
    PageOut,
)
from pforte.web.admin.secrets import secret_created
from pforte.web.deps import (
    ClientIdPath,
    ContextDep,
    Cursor,
    Limit,
    PrincipalDep,
    TenantRef,
)

router = APIRouter(prefix="/tenants/{tenant}/clients", tags=["clients"])
_SPEC = frozenset(f.name for f in fields(ClientSpec))
_LAST_ADMIN = conflict("the change would remove the last holder of tenants:admin")


def _spec(body: ClientUpdate, client_id: str) -> ClientSpec:
    values = body.model_dump(exclude={"client_id"})
    return ClientSpec(client_id=body.client_id or client_id, **values)


@router.get("", response_model=PageOut[ClientPublic])
async def list_clients(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, cursor: Cursor = None, limit: Limit = None
) -> PageOut[ClientPublic]:
    page = await service.list_clients(ctx, principal, tenant, cursor=cursor, limit=limit)
    return PageOut[ClientPublic](items=[ClientPublic.model_validate(r) for r in page.items], next=page.next)


@router.post("", status_code=201, response_model=ClientCreated, responses=conflict("the clientId is taken"))
async def create_client(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, body: ClientCreate
) -> ClientCreated:
    row, secret = await service.create_client(ctx, principal, tenant, _spec(body, body.client_id))
    first = secret_created(secret) if secret is not None else None
    return ClientCreated(**ClientPublic.model_validate(row).model_dump(), secret=first)


@router.get("/{clientId}", response_model=ClientPublic)
async def get_client(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, client_id: ClientIdPath
) -> ClientPublic:
    return ClientPublic.model_validate(await service.get_client(ctx, principal, tenant, client_id))


@router.put("/{clientId}", response_model=ClientPublic, responses=_LAST_ADMIN)
async def replace_client(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, client_id: ClientIdPath, body: ClientUpdate
) -> ClientPublic:
    row = await service.replace_client(ctx, principal, tenant, client_id, _spec(body, client_id))
    return ClientPublic.model_validate(row)


@router.patch("/{clientId}", response_model=ClientPublic, responses=_LAST_ADMIN)
async def patch_client(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, client_id: ClientIdPath, body: ClientUpdate
) -> ClientPublic:
    changes = {name: getattr(body, name) for name in body.model_fields_set if name in _SPEC}
    row = await service.patch_client(ctx, principal, tenant, client_id, changes)
    return ClientPublic.model_validate(row)


@router.delete("/{clientId}", status_code=204, response_class=Response, responses=_LAST_ADMIN)
async def delete_client(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, client_id: ClientIdPath
) -> Response:
    await service.delete_client(ctx, principal, tenant, client_id)
    return Response(status_code=204)
