"""/tenants/{tenant}/clients — client CRUD (``clients:read`` / ``clients:write``)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response

from pforte.domain.clients import SPEC_FIELDS, Client, ClientSpec
from pforte.domain.preconditions import etag
from pforte.services import clients as service
from pforte.web.admin.no_store import shows_credential
from pforte.web.admin.openapi import conflict
from pforte.web.admin.schemas import (
    ClientCreate,
    ClientCreated,
    ClientFields,
    ClientPublic,
    ClientUpdate,
    PageOut,
    page_out,
)
from pforte.web.admin.secrets import secret_created
from pforte.web.deps import (
    ClientIdPath,
    ContextDep,
    Cursor,
    IfMatch,
    Limit,
    PrincipalDep,
    TenantRef,
)

router = APIRouter(prefix="/tenants/{tenant}/clients", tags=["clients"])
_SPEC = frozenset(SPEC_FIELDS)
_LAST_ADMIN = conflict("the change would remove the last holder of tenants:admin")


def _spec(body: ClientFields, client_id: str) -> ClientSpec:
    values = body.model_dump(include=set(_SPEC - {"client_id"}))
    return ClientSpec(client_id=body.client_id or client_id, **values)


def _read_only(body: ClientUpdate) -> service.ReadOnly:
    return service.ReadOnly(id=body.id, created_at=body.created_at, updated_at=body.updated_at)


def public(client: Client) -> ClientPublic:
    return ClientPublic(
        id=client.id, created_at=client.created_at, updated_at=client.updated_at, **asdict(client.spec)
    )


def _public(client: Client, response: Response) -> ClientPublic:
    response.headers["ETag"] = etag(client.version)
    return public(client)


@router.get("", response_model=PageOut[ClientPublic])
async def list_clients(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, cursor: Cursor = None, limit: Limit = None
) -> PageOut[ClientPublic]:
    page = await service.list_clients(ctx, principal, tenant, cursor=cursor, limit=limit)
    return page_out(page.map(public))


@router.post(
    "",
    status_code=201,
    response_model=ClientCreated,
    **shows_credential(conflict("the clientId is taken")),
)
async def create_client(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, body: ClientCreate, response: Response
) -> ClientCreated:
    client, secret = await service.create_client(ctx, principal, tenant, _spec(body, body.client_id))
    first = secret_created(secret) if secret is not None else None
    return ClientCreated(**_public(client, response).model_dump(), secret=first)


@router.get("/{clientId}", response_model=ClientPublic)
async def get_client(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, client_id: ClientIdPath, response: Response
) -> ClientPublic:
    return _public(await service.get_client(ctx, principal, tenant, client_id), response)


@router.put("/{clientId}", response_model=ClientPublic, responses=_LAST_ADMIN)
async def replace_client(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    client_id: ClientIdPath,
    body: ClientUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ClientPublic:
    client = await service.replace_client(
        ctx,
        principal,
        tenant,
        client_id,
        _spec(body, client_id),
        read_only=_read_only(body),
        if_match=if_match,
    )
    return _public(client, response)


@router.patch("/{clientId}", response_model=ClientPublic, responses=_LAST_ADMIN)
async def patch_client(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    client_id: ClientIdPath,
    body: ClientUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ClientPublic:
    changes = {name: getattr(body, name) for name in body.model_fields_set if name in _SPEC}
    client = await service.patch_client(
        ctx, principal, tenant, client_id, changes, read_only=_read_only(body), if_match=if_match
    )
    return _public(client, response)


@router.delete("/{clientId}", status_code=204, response_class=Response, responses=_LAST_ADMIN)
async def delete_client(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    client_id: ClientIdPath,
    if_match: IfMatch = None,
) -> Response:
    await service.delete_client(ctx, principal, tenant, client_id, if_match=if_match)
    return Response(status_code=204)
