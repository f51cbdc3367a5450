"""Users, roles and client roles through the services (DESIGN.md §6), on SQLite and PostgreSQL.

Each refusal asserts the exact error and that storage is unchanged (a whole-database snapshot).
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from pforte.domain.clients import ClientSpec
from pforte.domain.errors import Conflict, Forbidden, Invalid, NotFound
from pforte.domain.events import Actor
from pforte.domain.principal import Principal
from pforte.domain.users import UserSpec
from pforte.security.passwords import PasswordHasher
from pforte.services import clients as client_service
from pforte.services import roles as role_service
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.store.repos.tenants import TenantRepo
from pforte.store.repos.users import UserRepo
from tests.conftest import audit_events, scalar, snapshot

pytestmark = pytest.mark.anyio

ALL_TENANT_PERMISSIONS = (
    "events:read",
    "users:read",
    "users.roles:read",
    "users:write",
    "users:impersonate",
    "clients.roles:read",
    "roles:write",
    "clients:read",
    "clients:write",
)


def principal_of(tenant: str, *permissions: str) -> Principal:
    actor = Actor(kind="client", id="caller", tenant=tenant, client_id="caller")
    return Principal(tenant_slug=tenant, client_id="caller", permissions=frozenset(permissions), actor=actor)


async def password_hash(ctx: Context, tenant: str, username: str) -> str | None:
    async with ctx.db.transaction() as session:
        found = await TenantRepo(session).get(tenant)
        assert found is not None
        row = await UserRepo(session).by_username(found.id, username)
        assert row is not None
        return row.password_hash


# --- users ------------------------------------------------------------------------------------


async def test_a_user_is_created_with_a_hashed_password_and_its_roles(ctx: Context, tenant: str) -> None:
    spec = UserSpec(
        username="Ada.Lovelace", email="ada@example.com", given_name="Ada", family_name="Lovelace"
    )
    user = await user_service.create_user(
        ctx, SYSTEM_PRINCIPAL, tenant, spec, password="correct horse battery", roles=["admin"]
    )
    assert (user.username, user.email, user.enabled, user.email_verified) == (
        "Ada.Lovelace",
        "ada@example.com",
        True,
        False,
    )
    assert user.roles == ("admin",)
    assert not hasattr(user, "password_hash")
    stored = await password_hash(ctx, tenant, "ada.lovelace")
    assert stored is not None and stored.startswith("$argon2id$")
    assert ctx.passwords.verify(stored, "correct horse battery")
    assert not ctx.passwords.verify(stored, "correct horse batterY")
    (event,) = await audit_events(ctx, "user.created", str(user.id))
    assert event.changes["username"] == "Ada.Lovelace"
    assert event.changes["roles"] == ["admin"]
    assert event.changes["password"] is True
    assert "correct horse" not in str(event.changes)
    # found by id and by any spelling of the username
    assert (await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, "ADA.LOVELACE")).id == user.id
    assert (
        await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, str(user.id))
    ).username == "Ada.Lovelace"


async def test_usernames_are_unique_without_regard_to_case(ctx: Context, tenant: str) -> None:
    await user_service.create_user(ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username="Grace"))
    before = await snapshot(ctx)
    with pytest.raises(Conflict, match="usernames ignore case"):
        await user_service.create_user(ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username="gRACE"))
    assert await snapshot(ctx) == before


async def test_parallel_creates_of_one_username_leave_exactly_one_user(ctx: Context, tenant: str) -> None:
    spellings = ["linus", "Linus", "LINUS", "linuS", "LiNuS", "lINUS"]
    results = await asyncio.gather(
        *(user_service.create_user(ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username=s)) for s in spellings),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(created) == 1
    assert all(isinstance(r, Conflict) for r in refused), refused
    page = await user_service.list_users(ctx, SYSTEM_PRINCIPAL, tenant, cursor=None, limit=50)
    assert [u.username for u in page.items] == [created[0].username]


@pytest.mark.parametrize(
    ("spec", "password", "field"),
    [
        (UserSpec(username=""), None, "username"),
        (UserSpec(username="has space"), None, "username"),
        (UserSpec(username="nul\x00"), None, "username"),
        (UserSpec(username="x" * 256), None, "username"),
        (UserSpec(username="ok", email="not-an-address"), None, "email"),
        (UserSpec(username="ok", given_name="bell\x07"), None, "givenName"),
        (UserSpec(username="ok"), "short", "password"),
        (UserSpec(username="ok"), "x" * 257, "password"),
    ],
)
async def test_invalid_users_are_refused_naming_the_field(
    ctx: Context, tenant: str, spec: UserSpec, password: str | None, field: str
) -> None:
    before = await snapshot(ctx)
    with pytest.raises(Invalid) as refused:
        await user_service.create_user(ctx, SYSTEM_PRINCIPAL, tenant, spec, password=password)
    ((named, message),) = refused.value.errors
    assert named == field
    if password is not None:
        assert password not in message
    assert await snapshot(ctx) == before


async def test_set_password_replaces_the_hash_and_is_audited_without_it(ctx: Context, tenant: str) -> None:
    user = await user_service.create_user(
        ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username="kim"), password="first password"
    )
    old = await password_hash(ctx, tenant, "kim")
    await user_service.set_password(ctx, SYSTEM_PRINCIPAL, tenant, "KIM", "second password")
    new = await password_hash(ctx, tenant, "kim")
    assert new != old and new is not None
    assert ctx.passwords.verify(new, "second password") and not ctx.passwords.verify(new, "first password")
    (event,) = await audit_events(ctx, "user.password_changed", str(user.id))
    assert event.changes == {}


async def test_a_hash_made_with_other_parameters_verifies_and_asks_to_be_renewed() -> None:
    old = PasswordHasher(time_cost=1, memory_kib=8192, parallelism=1)
    new = PasswordHasher(time_cost=2, memory_kib=8192, parallelism=1)
    stored = old.hash("a long enough password")
    assert new.verify(stored, "a long enough password")
    assert new.needs_rehash(stored) and not old.needs_rehash(stored)
    assert not new.needs_rehash(new.hash("a long enough password"))
    assert new.needs_rehash("not a hash") and not new.verify("not a hash", "anything")


async def test_update_renames_and_keeps_uniqueness(ctx: Context, tenant: str) -> None:
    await user_service.create_user(ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username="taken"))
    user = await user_service.create_user(ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username="sam"))
    before = await snapshot(ctx)
    with pytest.raises(Conflict):
        await user_service.update_user(
            ctx, SYSTEM_PRINCIPAL, tenant, "sam", user_service.UserChange(username="TAKEN")
        )
    assert await snapshot(ctx) == before
    renamed = await user_service.update_user(
        ctx, SYSTEM_PRINCIPAL, tenant, "sam", user_service.UserChange(username="Samuel", enabled=False)
    )
    assert (renamed.username, renamed.enabled, renamed.version) == ("Samuel", False, 2)
    (event,) = await audit_events(ctx, "user.updated", str(user.id))
    assert event.changes == {
        "username": {"from": "sam", "to": "Samuel"},
        "enabled": {"from": True, "to": False},
    }


async def test_delete_user_removes_it_and_its_assignments(ctx: Context, tenant: str) -> None:
    user = await user_service.create_user(
        ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username="gone"), roles=["admin"]
    )
    await user_service.delete_user(ctx, SYSTEM_PRINCIPAL, tenant, "gone")
    with pytest.raises(NotFound):
        await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, str(user.id))
    async with ctx.db.transaction() as session:
        found = await TenantRepo(session).get(tenant)
        assert found is not None
        assert await UserRepo(session).role_names_of(found.id, [user.id]) == {}
    assert len(await audit_events(ctx, "user.deleted", str(user.id))) == 1


async def test_another_tenants_principal_learns_nothing(ctx: Context, tenant: str) -> None:
    await user_service.create_user(ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username="private"))
    outsider = principal_of("some-other-tenant", *ALL_TENANT_PERMISSIONS)
    with pytest.raises(Forbidden):
        await user_service.get_user(ctx, outsider, tenant, "private")
    with pytest.raises(Forbidden):
        await user_service.create_user(ctx, outsider, tenant, UserSpec(username="intruder"))


async def test_permissions_gate_each_use_case(ctx: Context, tenant: str) -> None:
    reader = principal_of(tenant, "users:read")
    await user_service.create_user(ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username="someone"))
    assert (await user_service.get_user(ctx, reader, tenant, "someone")).username == "someone"
    before = await snapshot(ctx)
    with pytest.raises(Forbidden, match="users:write"):
        await user_service.create_user(ctx, reader, tenant, UserSpec(username="new"))
    with pytest.raises(Forbidden, match=r"users\.roles:read"):
        await user_service.user_roles(ctx, reader, tenant, "someone")
    assert await snapshot(ctx) == before


async def test_no_principal_assigns_a_role_holding_more_than_it_holds(ctx: Context, tenant: str) -> None:
    writer = principal_of(tenant, "users:write", "clients:read")
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name="readers", description=None, permissions=["clients:read"]
    )
    user = await user_service.create_user(ctx, writer, tenant, UserSpec(username="eve"), roles=["readers"])
    assert user.roles == ("readers",)
    before = await snapshot(ctx)
    with pytest.raises(Forbidden, match="cannot grant permissions the caller lacks"):
        await user_service.add_role(ctx, writer, tenant, "eve", "admin")
    with pytest.raises(Forbidden):
        await user_service.create_user(ctx, writer, tenant, UserSpec(username="mallory"), roles=["admin"])
    assert await snapshot(ctx) == before
    assert await user_service.add_role(ctx, SYSTEM_PRINCIPAL, tenant, "eve", "admin") is True
    assert await user_service.add_role(ctx, SYSTEM_PRINCIPAL, tenant, "eve", "admin") is False
    # and a user holding more than the caller is not the caller's to delete
    with pytest.raises(Forbidden):
        await user_service.delete_user(ctx, writer, tenant, "eve")
    assert await user_service.user_roles(ctx, SYSTEM_PRINCIPAL, tenant, "eve") == ["admin", "readers"]
    await user_service.remove_role(ctx, SYSTEM_PRINCIPAL, tenant, "eve", "admin")
    with pytest.raises(NotFound, match="does not hold"):
        await user_service.remove_role(ctx, SYSTEM_PRINCIPAL, tenant, "eve", "admin")
    with pytest.raises(NotFound, match="role 'nope' does not exist"):
        await user_service.add_role(ctx, SYSTEM_PRINCIPAL, tenant, "eve", "nope")


# --- roles ------------------------------------------------------------------------------------


async def test_every_tenant_has_the_builtin_admin_role_with_every_permission(
    ctx: Context, tenant: str
) -> None:
    (admin,) = await role_service.list_roles(ctx, SYSTEM_PRINCIPAL, tenant)
    assert (admin.name, admin.builtin, admin.permissions) == ("admin", True, ALL_TENANT_PERMISSIONS)
    system_admin = await role_service.get_role(ctx, SYSTEM_PRINCIPAL, "system", "admin")
    assert system_admin.permissions == (*ALL_TENANT_PERMISSIONS, "tenants:admin")


async def test_the_admin_role_cannot_be_deleted_or_changed(ctx: Context, tenant: str) -> None:
    before = await snapshot(ctx)
    with pytest.raises(Conflict, match="cannot be deleted"):
        await role_service.delete_role(ctx, SYSTEM_PRINCIPAL, tenant, "admin")
    with pytest.raises(Conflict, match="cannot be changed"):
        await role_service.update_role(
            ctx, SYSTEM_PRINCIPAL, tenant, "admin", role_service.RoleChange(permissions=[])
        )
    assert await snapshot(ctx) == before


@pytest.mark.parametrize(
    ("name", "permissions", "error", "text"),
    [
        ("admin", [], Conflict, "exists"),
        ("bad name", [], Invalid, "1-100 characters"),
        ("-dash", [], Invalid, "1-100 characters"),
        ("ops", ["no:such"], Invalid, "not a permission of this tenant: no:such"),
        ("ops", ["tenants:admin"], Invalid, "not a permission of this tenant: tenants:admin"),
    ],
)
async def test_invalid_roles_are_refused(
    ctx: Context, tenant: str, name: str, permissions: list[str], error: type[Exception], text: str
) -> None:
    before = await snapshot(ctx)
    with pytest.raises(error, match=text):
        await role_service.create_role(
            ctx, SYSTEM_PRINCIPAL, tenant, name=name, description=None, permissions=permissions
        )
    assert await snapshot(ctx) == before


async def test_a_role_grants_only_what_its_creator_holds(ctx: Context, tenant: str) -> None:
    writer = principal_of(tenant, "roles:write", "events:read")
    role = await role_service.create_role(
        ctx, writer, tenant, name="auditors", description="read events", permissions=["events:read"]
    )
    assert role.permissions == ("events:read",)
    before = await snapshot(ctx)
    with pytest.raises(Forbidden, match="users:write"):
        await role_service.create_role(
            ctx, writer, tenant, name="admins2", description=None, permissions=["users:write"]
        )
    with pytest.raises(Forbidden, match="users:write"):
        await role_service.update_role(
            ctx,
            writer,
            tenant,
            "auditors",
            role_service.RoleChange(permissions=["events:read", "users:write"]),
        )
    assert await snapshot(ctx) == before


async def test_restrict_to_role_must_name_a_role_and_holds_it_against_deletion(
    ctx: Context, tenant: str
) -> None:
    before = await snapshot(ctx)
    with pytest.raises(Invalid) as refused:
        await client_service.create_client(
            ctx, SYSTEM_PRINCIPAL, tenant, ClientSpec(client_id="app", restrict_to_role="no-such-role")
        )
    assert refused.value.errors == [
        (
            "restrictToRole",
            "names no role of this tenant: 'no-such-role'",
        )
    ]
    assert await snapshot(ctx) == before

    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name="staff", description=None, permissions=[]
    )
    await client_service.create_client(
        ctx, SYSTEM_PRINCIPAL, tenant, ClientSpec(client_id="app", restrict_to_role="staff")
    )
    before = await snapshot(ctx)
    with pytest.raises(Conflict, match="restrictToRole of client"):
        await role_service.delete_role(ctx, SYSTEM_PRINCIPAL, tenant, "staff")
    with pytest.raises(Invalid):
        await client_service.patch_client(ctx, SYSTEM_PRINCIPAL, tenant, "app", {"restrict_to_role": "nope"})
    assert await snapshot(ctx) == before
    await client_service.patch_client(ctx, SYSTEM_PRINCIPAL, tenant, "app", {"restrict_to_role": None})
    await role_service.delete_role(ctx, SYSTEM_PRINCIPAL, tenant, "staff")
    assert len(await audit_events(ctx, "role.deleted", "staff")) == 1


async def test_a_role_and_a_client_naming_it_race_to_one_consistent_end(ctx: Context, tenant: str) -> None:
    """Deleting a role while clients are created restricted to it: afterwards, either the role
    exists or no client names it."""
    for round_ in range(3):
        name = f"race-{round_}"
        await role_service.create_role(
            ctx, SYSTEM_PRINCIPAL, tenant, name=name, description=None, permissions=[]
        )
        specs = [ClientSpec(client_id=f"{name}-{i}", restrict_to_role=name) for i in range(4)]
        await asyncio.gather(
            role_service.delete_role(ctx, SYSTEM_PRINCIPAL, tenant, name),
            *(client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant, s) for s in specs),
            return_exceptions=True,
        )
        roles = {r.name for r in await role_service.list_roles(ctx, SYSTEM_PRINCIPAL, tenant)}
        count = await scalar(ctx, "SELECT count(*) FROM clients WHERE restrict_to_role = :r", r=name)
        assert name in roles or count == 0, (roles, count)


async def test_client_roles_belong_to_their_client(ctx: Context, tenant: str) -> None:
    await client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant, ClientSpec(client_id="shop"))
    role = await role_service.create_client_role(
        ctx, SYSTEM_PRINCIPAL, tenant, "shop", name="cashier", description="tills"
    )
    assert (role.client_id, role.name, role.description) == ("shop", "cashier", "tills")
    before = await snapshot(ctx)
    with pytest.raises(Conflict):
        await role_service.create_client_role(
            ctx, SYSTEM_PRINCIPAL, tenant, "shop", name="cashier", description=None
        )
    with pytest.raises(NotFound):
        await role_service.create_client_role(
            ctx, SYSTEM_PRINCIPAL, tenant, "nope", name="x", description=None
        )
    assert await snapshot(ctx) == before
    assert [r.name for r in await role_service.list_client_roles(ctx, SYSTEM_PRINCIPAL, tenant, "shop")] == [
        "cashier"
    ]
    await role_service.delete_client_role(ctx, SYSTEM_PRINCIPAL, tenant, "shop", "cashier")
    assert await role_service.list_client_roles(ctx, SYSTEM_PRINCIPAL, tenant, "shop") == []


def test_user_records_never_carry_a_password() -> None:
    from pforte.domain.users import User

    # ``must_change_password`` is a flag about the password, not the password or its hash
    carried = {f.name for f in dataclasses.fields(User) if "password" in f.name}
    assert carried == {"must_change_password"}
    flag = next(f for f in dataclasses.fields(User) if f.name == "must_change_password")
    assert flag.type in ("bool", bool)
