"""Users of a tenant and the roles they hold (DESIGN.md §6; the User API of §7 calls these).

A password is hashed with argon2id in a worker thread (it takes ~0.15 s of CPU by design and
must not stall the event loop) and never leaves the server. Assigning a role is granting its
permissions: no principal assigns a role holding a permission it does not hold itself.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields

from pydantic.alias_generators import to_camel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pforte.domain.clock import utcnow
from pforte.domain.errors import Conflict, NotFound
from pforte.domain.events import Actor, Event, EventName
from pforte.domain.ids import new_id
from pforte.domain.pagination import check_limit
from pforte.domain.preconditions import check_if_match
from pforte.domain.principal import Principal
from pforte.domain.users import User, UserFilter, UserSpec, check_password, username_key
from pforte.services import audit
from pforte.services.authorization import logout
from pforte.services.context import Context
from pforte.services.roles import existing_role, role_of
from pforte.services.units import tenant_read, tenant_unit
from pforte.store.repos.sessions import RefreshTokenRepo, SessionRepo
from pforte.store.repos.users import UserRepo
from pforte.store.tables import RoleRow, TenantRow, UserRow

READ, WRITE, ROLES_READ = "users:read", "users:write", "users.roles:read"
SPEC_FIELDS = tuple(f.name for f in fields(UserSpec))
_OPTIONAL = frozenset({"email", "given_name", "family_name"})


@dataclass(frozen=True, slots=True)
class UserChange:
    """A partial update: ``None`` leaves a member as it is."""

    username: str | None = None
    email: str | None = None
    email_verified: bool | None = None
    given_name: str | None = None
    family_name: str | None = None
    enabled: bool | None = None
    cleared: frozenset[str] = frozenset()  # optional members set to None (email, given_name, family_name)


def user_of(row: UserRow, roles: Sequence[str]) -> User:
    return User(
        id=row.id,
        tenant_id=row.tenant_id,
        username=row.username,
        email=row.email,
        email_verified=row.email_verified,
        given_name=row.given_name,
        family_name=row.family_name,
        enabled=row.enabled,
        roles=tuple(sorted(roles)),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        must_change_password=row.must_change_password,
    )


async def hash_password(ctx: Context, password: str) -> str:
    check_password(password)
    return await asyncio.to_thread(ctx.passwords.hash, password)


def parse_user_ref(ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


async def find_user(session: AsyncSession, tenant: TenantRow, ref: str, *, lock: bool = False) -> UserRow:
    """The user ``ref`` names, by id or by username (any case); 404 if none."""
    repo = UserRepo(session)
    user_id = parse_user_ref(ref)
    row = await repo.by_username(tenant.id, ref) if user_id is None else await repo.get(tenant.id, user_id)
    if row is not None and lock:
        row = await repo.lock(tenant.id, row.id)
    if row is None:
        raise NotFound(f"user {ref!r} does not exist in tenant {tenant.slug!r}")
    return row


async def insert_user(
    session: AsyncSession,
    tenant: TenantRow,
    *,
    actor: Actor,
    spec: UserSpec,
    password_hash: str | None,
    roles: Sequence[RoleRow] = (),
    must_change_password: bool = False,
) -> UserRow:
    spec = spec.checked()
    repo = UserRepo(session)
    if await repo.by_username(tenant.id, spec.username) is not None:
        raise Conflict(f"a user named {spec.username!r} exists in this tenant (usernames ignore case)")
    now = utcnow()
    row = UserRow(
        id=new_id(),
        tenant_id=tenant.id,
        username_key=username_key(spec.username),
        password_hash=password_hash,
        created_at=now,
        updated_at=now,
        version=1,
        must_change_password=must_change_password,
        **{name: getattr(spec, name) for name in SPEC_FIELDS},
    )
    repo.add(row)
    await session.flush()
    for role in roles:
        await repo.assign(tenant.id, row.id, role.id)
    changes = {to_camel(name): getattr(spec, name) for name in SPEC_FIELDS}
    changes["roles"] = sorted(r.name for r in roles)
    changes["password"] = password_hash is not None  # whether one was set, never what
    if must_change_password:
        changes["mustChangePassword"] = True
    audit.record(
        session,
        tenant_id=tenant.id,
        actor=actor,
        event=Event(EventName.USER_CREATED, "user", str(row.id), changes),
    )
    return row


async def create_user(
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    spec: UserSpec,
    *,
    password: str | None = None,
    roles: Sequence[str] = (),
    must_change_password: bool = False,
) -> User:
    spec = spec.checked()
    password_hash = await hash_password(ctx, password) if password is not None else None
    try:
        async with tenant_unit(ctx, principal, tenant_ref, WRITE, shared=True) as unit:
            names = dict.fromkeys(roles)
            held = [await existing_role(unit.session, unit.tenant, name, hold=True) for name in names]
            for role in held:
                _may_assign(principal, role, unit.tenant.slug)
            row = await insert_user(
                unit.session,
                unit.tenant,
                actor=principal.actor,
                spec=spec,
                password_hash=password_hash,
                roles=held,
                must_change_password=must_change_password,
            )
            return user_of(row, [r.name for r in held])
    except IntegrityError:  # a concurrent create of the same username won the race
        raise Conflict(
            f"a user named {spec.username!r} exists in this tenant (usernames ignore case)"
        ) from None


async def get_user(ctx: Context, principal: Principal, tenant_ref: str, ref: str) -> User:
    async with tenant_read(ctx, principal, tenant_ref, READ) as unit:
        row = await find_user(unit.session, unit.tenant, ref)
        roles = await UserRepo(unit.session).roles_of(unit.tenant.id, row.id)
        return user_of(row, [r.name for r in roles])


@dataclass(frozen=True, slots=True)
class UserPage:
    """A page of users; ``total`` counts every match when it was asked for."""

    items: list[User]
    next: str | None
    total: int | None = None


async def list_users(
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    *,
    cursor: str | None,
    limit: int | None,
    wanted: UserFilter | None = None,
    count: bool = False,
    brief: bool = False,
) -> UserPage:
    """The users ``wanted`` describes, by username. ``brief`` leaves out the roles (one query
    less per page, for exports), ``count`` adds the total of every match (a scan of them)."""
    wanted = (wanted or UserFilter()).checked()
    size = check_limit(limit, ctx.settings.page_size_max)
    async with tenant_read(ctx, principal, tenant_ref, READ) as unit:
        repo = UserRepo(unit.session)
        role_id = None
        if wanted.role is not None:
            role_id = (await existing_role(unit.session, unit.tenant, wanted.role)).id
        page = await repo.listing(unit.tenant.id, wanted, role_id=role_id, cursor=cursor, limit=size)
        names = {} if brief else await repo.role_names_of(unit.tenant.id, [row.id for row in page.items])
        total = await repo.count(unit.tenant.id, wanted, role_id=role_id) if count else None
    users = [user_of(row, names.get(row.id, [])) for row in page.items]
    return UserPage(items=users, next=page.next, total=total)


async def update_user(
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    ref: str,
    change: UserChange,
    *,
    if_match: str | None = None,
) -> User:
    ended: list[Ended] = []
    try:
        async with tenant_unit(ctx, principal, tenant_ref, WRITE, shared=True) as unit:
            row = await find_user(unit.session, unit.tenant, ref, lock=True)
            check_if_match(if_match, row.version)
            wanted = {n: getattr(change, n) for n in SPEC_FIELDS if getattr(change, n) is not None}
            wanted.update({n: None for n in change.cleared if n in _OPTIONAL})
            current = UserSpec(**{n: getattr(row, n) for n in SPEC_FIELDS})
            spec = UserSpec(**{**{n: getattr(current, n) for n in SPEC_FIELDS}, **wanted}).checked()
            repo = UserRepo(unit.session)
            renamed = username_key(spec.username) != row.username_key
            if renamed and await repo.by_username(unit.tenant.id, spec.username) is not None:
                raise Conflict(
                    f"a user named {spec.username!r} exists in this tenant (usernames ignore case)"
                )
            diff: dict[str, object] = {
                to_camel(n): {"from": getattr(row, n), "to": getattr(spec, n)}
                for n in SPEC_FIELDS
                if getattr(row, n) != getattr(spec, n)
            }
            if diff:
                for name in SPEC_FIELDS:
                    setattr(row, name, getattr(spec, name))
                row.username_key = username_key(spec.username)
                row.updated_at = utcnow()
                row.version += 1
                if not spec.enabled and "enabled" in diff:
                    ended = await end_everything(unit.session, unit.tenant.id, row.id)
                _audit(unit.session, unit.tenant, principal.actor, EventName.USER_UPDATED, row, diff)
                await unit.session.flush()
            roles = await repo.roles_of(unit.tenant.id, row.id)
            updated = user_of(row, [r.name for r in roles])
            slug = unit.tenant.slug
    except IntegrityError:
        raise Conflict("a user with that username exists in this tenant (usernames ignore case)") from None
    await _notify(ctx, slug, updated.id, ended)
    return updated


async def set_password(
    ctx: Context,
    principal: Principal,
    tenant_ref: str,
    ref: str,
    password: str,
    *,
    must_change: bool = False,
) -> None:
    """Set the user's password; ``must_change``: the next sign-in asks them for a new one."""
    password_hash = await hash_password(ctx, password)
    async with tenant_unit(ctx, principal, tenant_ref, WRITE, shared=True) as unit:
        row = await find_user(unit.session, unit.tenant, ref, lock=True)
        row.password_hash = password_hash
        row.must_change_password = must_change
        row.updated_at = utcnow()
        row.version += 1
        changes: dict[str, object] = {"mustChangePassword": True} if must_change else {}
        _audit(unit.session, unit.tenant, principal.actor, EventName.USER_PASSWORD_CHANGED, row, changes)


async def delete_user(
    ctx: Context, principal: Principal, tenant_ref: str, ref: str, *, if_match: str | None = None
) -> None:
    async with tenant_unit(ctx, principal, tenant_ref, WRITE, shared=True) as unit:
        row = await find_user(unit.session, unit.tenant, ref, lock=True)
        check_if_match(if_match, row.version)
        roles = await UserRepo(unit.session).roles_of(unit.tenant.id, row.id)
        for role in roles:  # removing a user who holds more than the caller is not for the caller
            _may_assign(principal, role, unit.tenant.slug)
        ended = await end_everything(unit.session, unit.tenant.id, row.id)
        user_id, slug = row.id, unit.tenant.slug
        await UserRepo(unit.session).delete(unit.tenant.id, row.id)
        _audit(
            unit.session,
            unit.tenant,
            principal.actor,
            EventName.USER_DELETED,
            row,
            {"username": row.username},
        )
    await _notify(ctx, slug, user_id, ended)


async def user_roles(ctx: Context, principal: Principal, tenant_ref: str, ref: str) -> list[str]:
    async with tenant_read(ctx, principal, tenant_ref, ROLES_READ) as unit:
        row = await find_user(unit.session, unit.tenant, ref)
        return [r.name for r in await UserRepo(unit.session).roles_of(unit.tenant.id, row.id)]


async def add_role(ctx: Context, principal: Principal, tenant_ref: str, ref: str, role_name: str) -> bool:
    """Give the user the role; False if they held it already (nothing changes then)."""
    async with tenant_unit(ctx, principal, tenant_ref, WRITE, shared=True) as unit:
        row = await find_user(unit.session, unit.tenant, ref, lock=True)
        role = await existing_role(unit.session, unit.tenant, role_name, hold=True)
        _may_assign(principal, role, unit.tenant.slug)
        if not await UserRepo(unit.session).assign(unit.tenant.id, row.id, role.id):
            return False
        _audit(
            unit.session, unit.tenant, principal.actor, EventName.USER_ROLE_ADDED, row, {"role": role.name}
        )
        return True


async def remove_role(ctx: Context, principal: Principal, tenant_ref: str, ref: str, role_name: str) -> None:
    async with tenant_unit(ctx, principal, tenant_ref, WRITE, shared=True) as unit:
        row = await find_user(unit.session, unit.tenant, ref, lock=True)
        role = await existing_role(unit.session, unit.tenant, role_name)
        _may_assign(principal, role, unit.tenant.slug)
        if not await UserRepo(unit.session).unassign(unit.tenant.id, row.id, role.id):
            raise NotFound(f"user {ref!r} does not hold the role {role_name!r}")
        _audit(
            unit.session, unit.tenant, principal.actor, EventName.USER_ROLE_REMOVED, row, {"role": role.name}
        )


@dataclass(frozen=True, slots=True)
class Ended:
    """A session that ended with its user, and the clients to tell (back-channel logout)."""

    sid: str
    targets: list[tuple[str, str]]  # (client id, backChannelLogoutUri)


async def end_everything(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[Ended]:
    """A disabled or deleted user is signed out everywhere at once: sessions deleted, refresh
    tokens revoked (access tokens end at the next check of the user, ``services.tokens``)."""
    repo = SessionRepo(session)
    ended = []
    for row in await repo.of_user(tenant_id, user_id):
        clients = await repo.clients_of(tenant_id, row.id)
        targets = [(c.client_id, c.back_channel_logout_uri) for c in clients if c.back_channel_logout_uri]
        ended.append(Ended(row.sid, targets))
    await repo.delete_of_user(tenant_id, user_id)
    await RefreshTokenRepo(session).revoke_of_user(tenant_id, user_id, utcnow())
    return ended


async def _notify(ctx: Context, tenant_slug: str, user_id: uuid.UUID, ended: list[Ended]) -> None:
    """After the commit: back-channel logout for every session that ended."""
    if not any(e.targets for e in ended):
        return
    tenant = await ctx.cache.tenant(tenant_slug)
    if tenant is None:
        return
    for one in ended:
        logout.notify(ctx, tenant, str(user_id), one.sid, one.targets)


def _may_assign(principal: Principal, role: RoleRow, tenant_slug: str) -> None:
    principal.require_all(frozenset(role_of(role, tenant_slug).permissions))


def _audit(
    session: AsyncSession,
    tenant: TenantRow,
    actor: Actor,
    name: EventName,
    row: UserRow,
    changes: dict[str, object],
) -> None:
    audit.record(session, tenant_id=tenant.id, actor=actor, event=Event(name, "user", str(row.id), changes))
