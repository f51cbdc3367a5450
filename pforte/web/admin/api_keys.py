"""/tenants/{tenant}/clients/{clientId}/api-keys — API keys without a user."""

from __future__ import annotations

from fastapi import APIRouter, Response

from pforte.services import credentials as service
from pforte.services.credentials import ApiKeyRequest
from pforte.web.admin.no_store import SHOWS_CREDENTIAL
from pforte.web.admin.openapi import conflict
from pforte.web.admin.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, PageOut, page_out
from pforte.web.deps import (
    ClientIdPath,
    ContextDep,
    Cursor,
    KeyIdPath,
    Limit,
    PrincipalDep,
    TenantRef,
)

router = APIRouter(prefix="/tenants/{tenant}/clients/{clientId}/api-keys", tags=["API keys"])


@router.get("", response_model=PageOut[ApiKeyPublic])
async def list_api_keys(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    client_id: ClientIdPath,
    cursor: Cursor = None,
    limit: Limit = None,
) -> PageOut[ApiKeyPublic]:
    page = await service.list_api_keys(ctx, principal, tenant, client_id, cursor=cursor, limit=limit)
    return page_out(page.map(ApiKeyPublic.model_validate))


@router.post("", status_code=201, response_model=ApiKeyCreated, **SHOWS_CREDENTIAL)
async def create_api_key(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    client_id: ClientIdPath,
    body: ApiKeyCreate | None = None,
) -> ApiKeyCreated:
    body = body or ApiKeyCreate()
    request = ApiKeyRequest(name=body.name, scopes=body.scopes, expiration=body.expiration)
    created = await service.create_api_key(ctx, principal, tenant, client_id, request)
    return ApiKeyCreated(**ApiKeyPublic.model_validate(created.record).model_dump(), value=created.value)


@router.delete(
    "/{keyId}",
    status_code=204,
    response_class=Response,
    responses=conflict("it is the last API key that holds tenants:admin"),
)
async def revoke_api_key(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, client_id: ClientIdPath, key_id: KeyIdPath
) -> Response:
    await service.revoke_api_key(ctx, principal, tenant, client_id, key_id)
    return Response(status_code=204)
