"""/tenants/{tenant}/roles (``users.roles:read`` / ``roles:write``) and
/tenants/{tenant}/clients/{clientId}/roles (``clients.roles:read`` / ``clients:write``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from pforte.domain.roles import ClientRole, Role
from pforte.services import roles as service
from pforte.services.roles import RoleChange
from pforte.web.admin.openapi import conflict
from pforte.web.admin.schemas import (
    ClientRoleCreate,
    ClientRolePublic,
    PageOut,
    RoleCreate,
    RolePublic,
    RoleUpdate,
)
from pforte.web.deps import ClientIdPath, ContextDep, PrincipalDep, TenantRef

router = APIRouter(prefix="/tenants/{tenant}", tags=["roles"])
RoleNamePath = Annotated[str, Path(alias="name", description="the role's name")]


def role_public(role: Role) -> RolePublic:
    return RolePublic(
        name=role.name,
        description=role.description,
        permissions=list(role.permissions),
        builtin=role.builtin,
        created_at=role.created_at,
        updated_at=role.updated_at,
    )


def client_role_public(role: ClientRole) -> ClientRolePublic:
    return ClientRolePublic.model_validate(role)


@router.get("/roles", response_model=PageOut[RolePublic])
async def list_roles(ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef) -> PageOut[RolePublic]:
    roles = await service.list_roles(ctx, principal, tenant)
    return PageOut[RolePublic](items=[role_public(r) for r in roles], next=None)


@router.post("/roles", status_code=201, response_model=RolePublic, responses=conflict("the name is taken"))
async def create_role(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, body: RoleCreate
) -> RolePublic:
    role = await service.create_role(
        ctx, principal, tenant, name=body.name, description=body.description, permissions=body.permissions
    )
    return role_public(role)


@router.get("/roles/{name}", response_model=RolePublic)
async def get_role(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, name: RoleNamePath
) -> RolePublic:
    return role_public(await service.get_role(ctx, principal, tenant, name))


@router.patch(
    "/roles/{name}", response_model=RolePublic, responses=conflict("the built-in `admin` role cannot change")
)
async def update_role(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, name: RoleNamePath, body: RoleUpdate
) -> RolePublic:
    change = RoleChange(description=body.description, permissions=body.permissions)
    return role_public(await service.update_role(ctx, principal, tenant, name, change))


@router.delete(
    "/roles/{name}",
    status_code=204,
    response_class=Response,
    responses=conflict("the built-in `admin` role, or a role a client's restrictToRole names"),
)
async def delete_role(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, name: RoleNamePath
) -> Response:
    await service.delete_role(ctx, principal, tenant, name)
    return Response(status_code=204)


@router.get("/clients/{clientId}/roles", response_model=PageOut[ClientRolePublic])
async def list_client_roles(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, client_id: ClientIdPath
) -> PageOut[ClientRolePublic]:
    roles = await service.list_client_roles(ctx, principal, tenant, client_id)
    return PageOut[ClientRolePublic](items=[client_role_public(r) for r in roles], next=None)


@router.post(
    "/clients/{clientId}/roles",
    status_code=201,
    response_model=ClientRolePublic,
    responses=conflict("the client has a role of that name"),
)
async def create_client_role(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    client_id: ClientIdPath,
    body: ClientRoleCreate,
) -> ClientRolePublic:
    role = await service.create_client_role(
        ctx, principal, tenant, client_id, name=body.name, description=body.description
    )
    return client_role_public(role)


@router.get("/clients/{clientId}/roles/{name}", response_model=ClientRolePublic)
async def get_client_role(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, client_id: ClientIdPath, name: RoleNamePath
) -> ClientRolePublic:
    return client_role_public(await service.get_client_role(ctx, principal, tenant, client_id, name))


@router.delete("/clients/{clientId}/roles/{name}", status_code=204, response_class=Response)
async def delete_client_role(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, client_id: ClientIdPath, name: RoleNamePath
) -> Response:
    await service.delete_client_role(ctx, principal, tenant, client_id, name)
    return Response(status_code=204)
