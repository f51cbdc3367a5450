"""/tenants/{tenant}/clients/{clientId}/secrets — several expiring secrets per client."""

from __future__ import annotations

from fastapi import APIRouter, Response

from pforte.services import credentials as service
from pforte.services.credentials import CreatedSecret, SecretRequest
from pforte.web.admin.no_store import shows_credential
from pforte.web.admin.openapi import conflict
from pforte.web.admin.schemas import PageOut, SecretCreate, SecretCreated, SecretPublic, page_out
from pforte.web.deps import (
    ClientIdPath,
    ContextDep,
    Cursor,
    Limit,
    PrincipalDep,
    SecretIdPath,
    TenantRef,
)

router = APIRouter(prefix="/tenants/{tenant}/clients/{clientId}/secrets", tags=["client secrets"])


def secret_created(secret: CreatedSecret, *, newest: bool = True) -> SecretCreated:
    public = SecretPublic.model_validate(secret.record).model_dump()
    return SecretCreated(**{**public, "newest": newest}, value=secret.value)


@router.get("", response_model=PageOut[SecretPublic])
async def list_secrets(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    client_id: ClientIdPath,
    cursor: Cursor = None,
    limit: Limit = None,
) -> PageOut[SecretPublic]:
    page = await service.list_secrets(ctx, principal, tenant, client_id, cursor=cursor, limit=limit)
    newest = await service.newest_secret(ctx, principal, tenant, client_id)
    newest_id = newest.id if newest is not None else None
    return page_out(
        page.map(lambda s: SecretPublic.model_validate(s).model_copy(update={"newest": s.id == newest_id}))
    )


@router.post(
    "",
    status_code=201,
    response_model=SecretCreated,
    **shows_credential(conflict("the client is public, or already has the most unexpired secrets allowed")),
)
async def create_secret(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    client_id: ClientIdPath,
    body: SecretCreate | None = None,
) -> SecretCreated:
    body = body or SecretCreate()
    request = SecretRequest(
        description=body.description, start_time=body.start_time, expiration=body.expiration
    )
    created = await service.create_secret(ctx, principal, tenant, client_id, request)
    newest = await service.newest_secret(ctx, principal, tenant, client_id)
    return secret_created(created, newest=newest is not None and newest.id == created.record.id)


@router.delete("/{secretId}", status_code=204, response_class=Response)
async def revoke_secret(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    client_id: ClientIdPath,
    secret_id: SecretIdPath,
) -> Response:
    await service.revoke_secret(ctx, principal, tenant, client_id, secret_id)
    return Response(status_code=204)
