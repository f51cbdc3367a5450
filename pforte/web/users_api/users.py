"""The User API (DESIGN.md §7): ``/tenants/{tenant}/users`` — ``users:read`` / ``users:write``,
a user's roles with ``users.roles:read`` / ``users:write``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from pforte.domain.errors import NotFound
from pforte.domain.preconditions import etag
from pforte.domain.text import has_control
from pforte.domain.users import USERNAME_MAX, User, UserFilter, UserSpec
from pforte.services import users as service
from pforte.services.users import UserChange
from pforte.web.admin.openapi import conflict
from pforte.web.admin.schemas import PageOut
from pforte.web.deps import ContextDep, Cursor, IfMatch, Limit, PrincipalDep, TenantRef
from pforte.web.users_api.schemas import (
    HeldRoleOut,
    PasswordSet,
    RoleAssign,
    UserBrief,
    UserCreate,
    UserPage,
    UserPublic,
    UserUpdate,
)

router = APIRouter(prefix="/tenants/{tenant}/users", tags=["users"])

# Members that a merge patch may remove by sending null.
_NULLABLE = {"email": "email", "given_name": "givenName", "family_name": "familyName"}


async def _user_ref(
    user_id: Annotated[str, Path(alias="userId", description="the user's id, or their username (any case)")],
) -> str:
    # Text no user can have names none, before any query sees it (PostgreSQL refuses NUL).
    if not user_id or len(user_id) > USERNAME_MAX or has_control(user_id):
        raise NotFound("no such user")
    return user_id


UserRef = Annotated[str, Depends(_user_ref)]


def user_public(user: User) -> UserPublic:
    return UserPublic.model_validate(user)


def _with_etag(response: Response, user: User) -> UserPublic:
    response.headers["ETag"] = etag(user.version)
    return user_public(user)


@router.get("", response_model=UserPage)
async def list_users(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    search: Annotated[
        str | None, Query(description="prefix of the username, e-mail, given or family name; any case")
    ] = None,
    username: Annotated[str | None, Query(description="prefix of the username; any case")] = None,
    email: Annotated[str | None, Query(description="prefix of the e-mail address; any case")] = None,
    enabled: bool | None = None,
    email_verified: Annotated[bool | None, Query(alias="emailVerified")] = None,
    role: Annotated[str | None, Query(description="holders of this tenant role")] = None,
    created_after: Annotated[datetime | None, Query(alias="createdAfter", description="inclusive")] = None,
    created_before: Annotated[datetime | None, Query(alias="createdBefore", description="exclusive")] = None,
    count: Annotated[bool, Query(description="add `total`: the number of every match")] = False,
    brief: Annotated[bool, Query(description="items with id, username and enabled only")] = False,
    cursor: Cursor = None,
    limit: Limit = None,
) -> UserPage:
    wanted = UserFilter(
        search=search,
        username=username,
        email=email,
        enabled=enabled,
        email_verified=email_verified,
        role=role,
        created_after=created_after,
        created_before=created_before,
    )
    page = await service.list_users(
        ctx, principal, tenant, cursor=cursor, limit=limit, wanted=wanted, count=count, brief=brief
    )
    items: list[UserPublic] | list[UserBrief] = (
        [UserBrief.model_validate(u) for u in page.items] if brief else [user_public(u) for u in page.items]
    )
    return UserPage(items=items, next=page.next, total=page.total)


@router.post("", status_code=201, response_model=UserPublic, responses=conflict("the username is taken"))
async def create_user(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, body: UserCreate
) -> UserPublic:
    spec = UserSpec(
        username=body.username,
        email=body.email,
        email_verified=body.email_verified,
        given_name=body.given_name,
        family_name=body.family_name,
        enabled=body.enabled,
    )
    user = await service.create_user(
        ctx,
        principal,
        tenant,
        spec,
        password=body.password,
        roles=body.roles,
        must_change_password=body.must_change_password,
    )
    return user_public(user)


@router.get("/{userId}", response_model=UserPublic)
async def get_user(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, user: UserRef, response: Response
) -> UserPublic:
    return _with_etag(response, await service.get_user(ctx, principal, tenant, user))


@router.patch("/{userId}", response_model=UserPublic, responses=conflict("the new username is taken"))
async def update_user(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    user: UserRef,
    body: UserUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> UserPublic:
    given = body.model_fields_set
    change = UserChange(
        username=body.username,
        email=body.email,
        email_verified=body.email_verified,
        given_name=body.given_name,
        family_name=body.family_name,
        enabled=body.enabled,
        cleared=frozenset(n for n in _NULLABLE if n in given and getattr(body, n) is None),
    )
    updated = await service.update_user(ctx, principal, tenant, user, change, if_match=if_match)
    return _with_etag(response, updated)


@router.delete("/{userId}", status_code=204, response_class=Response)
async def delete_user(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, user: UserRef, if_match: IfMatch = None
) -> Response:
    await service.delete_user(ctx, principal, tenant, user, if_match=if_match)
    return Response(status_code=204)


@router.post("/{userId}/enable", response_model=UserPublic)
async def enable_user(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, user: UserRef, response: Response
) -> UserPublic:
    updated = await service.update_user(ctx, principal, tenant, user, UserChange(enabled=True))
    return _with_etag(response, updated)


@router.post("/{userId}/disable", response_model=UserPublic)
async def disable_user(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, user: UserRef, response: Response
) -> UserPublic:
    """Ends every session and refresh token of the user, on every process within a second."""
    updated = await service.update_user(ctx, principal, tenant, user, UserChange(enabled=False))
    return _with_etag(response, updated)


@router.put("/{userId}/password", status_code=204, response_class=Response)
async def set_password(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, user: UserRef, body: PasswordSet
) -> Response:
    await service.set_password(ctx, principal, tenant, user, body.password, must_change=body.must_change)
    return Response(status_code=204)


@router.get("/{userId}/roles", response_model=PageOut[HeldRoleOut])
async def list_user_roles(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, user: UserRef
) -> PageOut[HeldRoleOut]:
    names = await service.user_roles(ctx, principal, tenant, user)
    return PageOut[HeldRoleOut](items=[HeldRoleOut(name=n) for n in names], next=None)


@router.post("/{userId}/roles", status_code=204, response_class=Response)
async def assign_role(
    ctx: ContextDep, principal: PrincipalDep, tenant: TenantRef, user: UserRef, body: RoleAssign
) -> Response:
    """Idempotent: assigning a role the user holds changes nothing and is also 204."""
    await service.add_role(ctx, principal, tenant, user, body.name)
    return Response(status_code=204)


@router.delete("/{userId}/roles/{name}", status_code=204, response_class=Response)
async def remove_role(
    ctx: ContextDep,
    principal: PrincipalDep,
    tenant: TenantRef,
    user: UserRef,
    name: Annotated[str, Path(description="the role's name")],
) -> Response:
    await service.remove_role(ctx, principal, tenant, user, name)
    return Response(status_code=204)
