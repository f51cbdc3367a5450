"""Annotated dependencies shared by the admin routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pforte.domain.errors import NotFound, Unauthorized
from pforte.domain.ids import CLIENT_ID_PATTERN, TENANT_REF_PATTERN, is_client_id, is_tenant_ref
from pforte.domain.principal import Principal
from pforte.observability import set_tenant
from pforte.services.context import Context
from pforte.services.credentials import record_key_use
from pforte.services.principals import authenticate_bearer

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (pfk_…) or an access token from this server's token endpoint, "
    "with the permission the route names.",
)


def _context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


ContextDep = Annotated[Context, Depends(_context)]


async def _principal(
    ctx: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AsyncIterator[Principal]:
    if credentials is None:
        raise Unauthorized("send Authorization: Bearer <API key or access token>", credential_given=False)
    principal, use = await authenticate_bearer(ctx, credentials.credentials)
    yield principal
    # Reached only when the route succeeded: a refused request leaves lastUsedAt as it was.
    if use is not None:
        await record_key_use(ctx, use)


PrincipalDep = Annotated[Principal, Depends(_principal)]


# The patterns are declared, not enforced by validation: a value no tenant or client can have
# names no resource (404), before any query: the database never sees text it would refuse
# (PostgreSQL: NUL) or that no row can hold.
_TenantPath = Path(description="tenant slug or id", json_schema_extra={"pattern": TENANT_REF_PATTERN})


async def _tenant(tenant: Annotated[str, _TenantPath]) -> str:
    if not is_tenant_ref(tenant):
        raise NotFound("no such tenant")
    set_tenant(tenant)
    return tenant


async def _client_id(
    client_id: Annotated[
        str,
        Path(
            alias="clientId",
            description="the client's clientId",
            json_schema_extra={"pattern": CLIENT_ID_PATTERN},
        ),
    ],
) -> str:
    if not is_client_id(client_id):
        raise NotFound("no such client")
    return client_id


TenantRef = Annotated[str, Depends(_tenant)]
Cursor = Annotated[str | None, Query(description="the `next` of the previous page")]
Limit = Annotated[int | None, Query(description="page size: 1 to PFORTE_PAGE_SIZE_MAX, default 50")]
ClientIdPath = Annotated[str, Depends(_client_id)]
SecretIdPath = Annotated[str, Path(alias="secretId", json_schema_extra={"format": "uuid"})]
KeyIdPath = Annotated[str, Path(alias="keyId", json_schema_extra={"format": "uuid"})]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="the ETag of a previous GET: the change is made only if the resource is still "
        "at that version (else 412)",
    ),
]
