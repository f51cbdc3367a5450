"""Users, their roles and client roles. Every method takes ``tenant_id`` and starts from ``scoping``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, func, literal, null, or_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.pagination import Page
from pforte.domain.roles import is_role_name
from pforte.domain.users import UserFilter, username_key
from pforte.store.repos.locking import hold
from pforte.store.repos.paging import keyset_page, prefix
from pforte.store.repos.scoping import TenantRef, scoped_delete, scoped_select
from pforte.store.tables import ClientRoleRow, RoleRow, UserClientRoleRow, UserRoleRow, UserRow


@dataclass(frozen=True, slots=True)
class HeldRole:
    """A tenant role a user holds: what its permissions are read from."""

    name: str
    builtin: bool
    permissions: list[str]


@dataclass(frozen=True, slots=True)
class GrantedUser:
    """What the token grants read of a user: the claims about them and whether they are enabled."""

    id: uuid.UUID
    username: str
    email: str | None
    email_verified: bool
    given_name: str | None
    family_name: str | None
    enabled: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class UserWithRoles:
    """A user with their tenant roles and the roles of one client they hold, each by name."""

    user: GrantedUser
    roles: list[HeldRole]
    client_roles: list[str]


# An id, or the bind parameter standing for it in a statement built once.
IdRef = uuid.UUID | BindParameter[uuid.UUID]
_USER_COLUMNS = [UserRow.__table__.c[field.name] for field in fields(GrantedUser)]


def _held_roles(tenant_id: TenantRef, user_id: IdRef) -> Select[RoleRow]:
    """The tenant roles the user holds."""
    return (
        scoped_select(RoleRow, tenant_id)
        .join_from(RoleRow, UserRoleRow, UserRoleRow.role_id == RoleRow.id)
        .where(UserRoleRow.user_id == user_id, UserRoleRow.tenant_id == RoleRow.tenant_id)
    )


def _held_client_roles(tenant_id: TenantRef, user_id: IdRef, client_pk: IdRef) -> Select[ClientRoleRow]:
    """The roles of one client that the user holds."""
    return (
        scoped_select(ClientRoleRow, tenant_id)
        .join_from(ClientRoleRow, UserClientRoleRow, UserClientRoleRow.client_role_id == ClientRoleRow.id)
        .where(
            UserClientRoleRow.user_id == user_id,
            UserClientRoleRow.tenant_id == ClientRoleRow.tenant_id,
            ClientRoleRow.client_pk == client_pk,
        )
    )


def _with_roles_statement() -> Select[*tuple[Any, ...]]:
    """One statement for ``UserRepo.with_roles``: the user, outer-joined to the union of their
    tenant roles (kind 0) and the client's roles they hold (kind 1), by kind and name. Built
    once; the tenant, user and client are bound at each call."""
    tenant: BindParameter[uuid.UUID] = bindparam("tenant")
    user: BindParameter[uuid.UUID] = bindparam("user")
    client: BindParameter[uuid.UUID] = bindparam("client")
    held = union_all(
        _held_roles(tenant, user).with_only_columns(
            literal(0).label("kind"), RoleRow.name, RoleRow.builtin, RoleRow.permissions, UserRoleRow.user_id
        ),
        _held_client_roles(tenant, user, client).with_only_columns(
            literal(1), ClientRoleRow.name, literal(False), null(), UserClientRoleRow.user_id
        ),
    ).subquery("held")
    return (
        scoped_select(UserRow, tenant)
        .outerjoin(held, held.c.user_id == UserRow.id)
        .where(UserRow.id == user)
        .with_only_columns(*_USER_COLUMNS, held.c.kind, held.c.name, held.c.builtin, held.c.permissions)
        .order_by(held.c.kind, held.c.name)
    )


_WITH_ROLES = _with_roles_statement()


class UserRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> UserRow | None:
        return await self.session.scalar(scoped_select(UserRow, tenant_id).where(UserRow.id == user_id))

    async def by_username(self, tenant_id: uuid.UUID, username: str) -> UserRow | None:
        """Whatever the case it is typed in (DESIGN.md §6)."""
        key = username_key(username)
        return await self.session.scalar(scoped_select(UserRow, tenant_id).where(UserRow.username_key == key))

    async def lock(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> UserRow | None:
        """The user, held until this transaction ends (see ``locking``); None if it is gone. A
        user's id never changes: ``FOR NO KEY UPDATE``, so the user's sessions and tokens can be
        written meanwhile (and are then ended by the holder)."""
        stmt = scoped_select(UserRow, tenant_id).where(UserRow.id == user_id)
        return await hold(self.session, stmt, UserRow, keeps_key=True)

    async def page(self, tenant_id: uuid.UUID, *, cursor: str | None, limit: int) -> Page[UserRow]:
        return await keyset_page(
            self.session, scoped_select(UserRow, tenant_id), UserRow.username_key, cursor=cursor, limit=limit
        )

    async def listing(
        self,
        tenant_id: uuid.UUID,
        wanted: UserFilter,
        *,
        role_id: uuid.UUID | None,
        cursor: str | None,
        limit: int,
    ) -> Page[UserRow]:
        """A page of the users ``wanted`` describes, by username (keyset: page 1,000 costs
        what page 1 does)."""
        stmt = self._filtered(tenant_id, wanted, role_id)
        return await keyset_page(self.session, stmt, UserRow.username_key, cursor=cursor, limit=limit)

    async def count(self, tenant_id: uuid.UUID, wanted: UserFilter, *, role_id: uuid.UUID | None) -> int:
        stmt = self._filtered(tenant_id, wanted, role_id).with_only_columns(func.count()).order_by(None)
        return int(await self.session.scalar(stmt) or 0)

    @staticmethod
    def _filtered(tenant_id: uuid.UUID, wanted: UserFilter, role_id: uuid.UUID | None) -> Select[UserRow]:
        stmt = scoped_select(UserRow, tenant_id)
        search = wanted.folded(wanted.search)
        if search:
            keys = (UserRow.username_key, UserRow.email_key, UserRow.given_name_key, UserRow.family_name_key)
            stmt = stmt.where(or_(*(prefix(key, search) for key in keys)))
        username, email = wanted.folded(wanted.username), wanted.folded(wanted.email)
        if username:
            stmt = stmt.where(prefix(UserRow.username_key, username))
        if email:
            stmt = stmt.where(prefix(UserRow.email_key, email))
        if wanted.enabled is not None:
            stmt = stmt.where(UserRow.enabled == wanted.enabled)
        if wanted.email_verified is not None:
            stmt = stmt.where(UserRow.email_verified == wanted.email_verified)
        if wanted.created_after is not None:
            stmt = stmt.where(UserRow.created_at >= wanted.created_after)
        if wanted.created_before is not None:
            stmt = stmt.where(UserRow.created_at < wanted.created_before)
        if role_id is not None:
            holders = scoped_select(UserRoleRow, tenant_id).where(UserRoleRow.role_id == role_id)
            stmt = stmt.where(UserRow.id.in_(holders.with_only_columns(UserRoleRow.user_id)))
        return stmt

    def add(self, row: UserRow) -> None:
        self.session.add(row)

    async def delete(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            scoped_delete(UserRow, tenant_id).where(UserRow.id == user_id).returning(UserRow.id)
        )
        return result.first() is not None

    async def roles_of(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[RoleRow]:
        """The user's tenant roles, by name."""
        stmt = _held_roles(tenant_id, user_id).order_by(RoleRow.name)
        return list((await self.session.scalars(stmt)).all())

    async def role_names_of(
        self, tenant_id: uuid.UUID, user_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[str]]:
        """The role names of many users in one query (a page of users: no query per user)."""
        if not user_ids:
            return {}
        stmt = (
            scoped_select(UserRoleRow, tenant_id)
            .join(RoleRow, RoleRow.id == UserRoleRow.role_id)
            .where(UserRoleRow.user_id.in_(user_ids), RoleRow.tenant_id == UserRoleRow.tenant_id)
            .with_only_columns(UserRoleRow.user_id, RoleRow.name)
            .order_by(RoleRow.name)
        )
        names: dict[uuid.UUID, list[str]] = {}
        for user_id, name in (await self.session.execute(stmt)).all():
            names.setdefault(user_id, []).append(name)
        return names

    async def assign(self, tenant_id: uuid.UUID, user_id: uuid.UUID, role_id: uuid.UUID) -> bool:
        """Give the user the role; False if they hold it already, or if the user or the role is not
        the tenant's (an assignment never joins two tenants, whatever ids it is given)."""
        held = scoped_select(UserRoleRow, tenant_id).where(
            UserRoleRow.user_id == user_id, UserRoleRow.role_id == role_id
        )
        if await self.session.scalar(held) is not None or not await self._both_owned(
            tenant_id, user_id, RoleRow, role_id
        ):
            return False
        self.session.add(UserRoleRow(tenant_id=tenant_id, user_id=user_id, role_id=role_id))
        return True

    async def unassign(self, tenant_id: uuid.UUID, user_id: uuid.UUID, role_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            scoped_delete(UserRoleRow, tenant_id)
            .where(UserRoleRow.user_id == user_id, UserRoleRow.role_id == role_id)
            .returning(UserRoleRow.user_id)
        )
        return result.first() is not None

    async def client_roles_of(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, client_pk: uuid.UUID
    ) -> list[ClientRoleRow]:
        """The roles of one client that the user holds, by name."""
        stmt = _held_client_roles(tenant_id, user_id, client_pk).order_by(ClientRoleRow.name)
        return list((await self.session.scalars(stmt)).all())

    async def with_roles(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, client_pk: uuid.UUID
    ) -> UserWithRoles | None:
        """The user with their tenant roles and the roles of ``client_pk`` they hold, in one
        statement (the token grants' hot path: no ORM objects); None if there is no such user."""
        connection = await self.session.connection()
        result = await connection.execute(
            _WITH_ROLES, {"tenant": tenant_id, "user": user_id, "client": client_pk}
        )
        rows = result.all()
        if not rows:
            return None
        return UserWithRoles(
            user=GrantedUser(*rows[0][: len(_USER_COLUMNS)]),
            roles=[HeldRole(r.name, r.builtin, r.permissions) for r in rows if r.kind == 0],
            client_roles=[r.name for r in rows if r.kind == 1],
        )

    async def assign_client_role(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, client_role_id: uuid.UUID
    ) -> bool:
        """As ``assign``, for a client role."""
        held = scoped_select(UserClientRoleRow, tenant_id).where(
            UserClientRoleRow.user_id == user_id, UserClientRoleRow.client_role_id == client_role_id
        )
        owned = await self._both_owned(tenant_id, user_id, ClientRoleRow, client_role_id)
        if await self.session.scalar(held) is not None or not owned:
            return False
        self.session.add(
            UserClientRoleRow(tenant_id=tenant_id, user_id=user_id, client_role_id=client_role_id)
        )
        return True

    async def unassign_client_role(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID, client_role_id: uuid.UUID
    ) -> bool:
        result = await self.session.execute(
            scoped_delete(UserClientRoleRow, tenant_id)
            .where(UserClientRoleRow.user_id == user_id, UserClientRoleRow.client_role_id == client_role_id)
            .returning(UserClientRoleRow.user_id)
        )
        return result.first() is not None

    async def _both_owned(
        self,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID,
        role: type[RoleRow | ClientRoleRow],
        role_id: uuid.UUID,
    ) -> bool:
        user = await self.session.scalar(scoped_select(UserRow, tenant_id).where(UserRow.id == user_id))
        found = await self.session.scalar(scoped_select(role, tenant_id).where(role.id == role_id))
        return user is not None and found is not None


class RoleRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: uuid.UUID, name: str) -> RoleRow | None:
        if not is_role_name(name):  # no role has it: the database never sees text it may refuse
            return None
        return await self.session.scalar(scoped_select(RoleRow, tenant_id).where(RoleRow.name == name))

    async def lock(self, tenant_id: uuid.UUID, name: str, *, shared: bool = False) -> RoleRow | None:
        """The role, held until this transaction ends (shared: only against its deletion)."""
        if not is_role_name(name):
            return None
        stmt = scoped_select(RoleRow, tenant_id).where(RoleRow.name == name)
        return await hold(self.session, stmt, RoleRow, shared=shared)

    async def all(self, tenant_id: uuid.UUID) -> list[RoleRow]:
        """Every role of the tenant, by name (tenants have tens of roles, not thousands)."""
        stmt = scoped_select(RoleRow, tenant_id).order_by(RoleRow.name)
        return list((await self.session.scalars(stmt)).all())

    def add(self, row: RoleRow) -> None:
        self.session.add(row)

    async def delete(self, tenant_id: uuid.UUID, name: str) -> bool:
        if not is_role_name(name):
            return False
        result = await self.session.execute(
            scoped_delete(RoleRow, tenant_id).where(RoleRow.name == name).returning(RoleRow.id)
        )
        return result.first() is not None


class ClientRoleRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: uuid.UUID, client_pk: uuid.UUID, name: str) -> ClientRoleRow | None:
        if not is_role_name(name):
            return None
        return await self.session.scalar(
            scoped_select(ClientRoleRow, tenant_id).where(
                ClientRoleRow.client_pk == client_pk, ClientRoleRow.name == name
            )
        )

    async def all_of(self, tenant_id: uuid.UUID, client_pk: uuid.UUID) -> list[ClientRoleRow]:
        stmt = (
            scoped_select(ClientRoleRow, tenant_id)
            .where(ClientRoleRow.client_pk == client_pk)
            .order_by(ClientRoleRow.name)
        )
        return list((await self.session.scalars(stmt)).all())

    def add(self, row: ClientRoleRow) -> None:
        self.session.add(row)

    async def delete(self, tenant_id: uuid.UUID, client_pk: uuid.UUID, name: str) -> bool:
        if not is_role_name(name):
            return False
        result = await self.session.execute(
            scoped_delete(ClientRoleRow, tenant_id)
            .where(ClientRoleRow.client_pk == client_pk, ClientRoleRow.name == name)
            .returning(ClientRoleRow.id)
        )
        return result.first() is not None
