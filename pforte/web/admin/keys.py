"""/tenants/{tenant}/keys — the tenant's signing keys and their rotation (``tenants:admin``)."""

from __future__ import annotations

from fastapi import APIRouter

from pforte.services import tenants as service
from pforte.services.keys import KeyState
from pforte.web.admin.openapi import conflict
from pforte.web.admin.schemas import PageOut, SigningKeyPublic
from pforte.web.deps import ContextDep, PrincipalDep, TenantRef

router = APIRouter(prefix="/tenants/{tenant}/keys", tags=["signing keys"])


def public(state: KeyState) -> SigningKeyPublic:
    key = state.key
    return SigningKeyPublic(
        kid=key.kid,
        alg=key.alg,
        created_at=key.created_at,
        active_from=key.active_from,
        retired_at=key.retired_at,
        status=state.status.value,
    )


@router.get("", response_model=PageOut[SigningKeyPublic])
async def list_keys(ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef) -> PageOut[SigningKeyPublic]:
    """The keys in the tenant's JWKS, oldest first."""
    items = [public(s) for s in await service.list_signing_keys(ctx, principal, tenant)]
    return PageOut[SigningKeyPublic](items=items, next=None)


@router.post(
    "/rotate",
    status_code=201,
    response_model=SigningKeyPublic,
    responses=conflict("this server's PFORTE_SECRET_KEY does not open the tenant's signing keys"),
)
async def rotate_key(ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef) -> SigningKeyPublic:
    """A new key, published now, signing after PFORTE_KEY_PUBLISH_AHEAD seconds; the older keys
    stay published until every token they signed has expired."""
    return public(await service.rotate_signing_key(ctx, principal, tenant))
