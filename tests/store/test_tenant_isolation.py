"""Tenant scoping at the store's one chokepoint (CONVENTIONS §2 rule 6), per repository method.

Each test writes in tenant A through the services, calls the method with tenant B's id and
expects not-found / empty / 0 / False / nothing changed; then makes the same call with A's id
and expects A's row, so that a method ignoring ``tenant_id`` altogether cannot pass.
Runs on SQLite and PostgreSQL (the ``database`` fixture is parametrised).

Each case is registered (``@covers``) under the methods it covers.
``test_every_repository_method_has_an_isolation_case`` lists every public method of every
``…Repo`` class in ``pforte.store.repos`` and fails unless each one has a case or a place, with
its reason, in ``NOT_TENANT_SCOPED``: a new repository method without an isolation case turns
the suite red.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

import pforte.store.repos
from pforte.domain.clients import ClientSpec
from pforte.domain.clock import utcnow
from pforte.domain.consoles import BUILTIN_CLIENT_IDS
from pforte.domain.errors import Unavailable
from pforte.domain.event_log import EventFilter
from pforte.domain.metrics import DayRange
from pforte.domain.users import UserFilter, UserSpec
from pforte.services import clients as client_service
from pforte.services import roles as role_service
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.services.credentials import ApiKeyRequest, create_api_key
from pforte.store.repos.audit import AuditRepo
from pforte.store.repos.changes import RevokedTokenRepo
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.credentials import ApiKeyRepo, SecretRepo
from pforte.store.repos.metrics import MetricRepo
from pforte.store.repos.scoping import scoped_count, scoped_delete, scoped_select, scoped_update
from pforte.store.repos.sessions import CodeRepo, ConsentRepo, NewRefreshToken, RefreshTokenRepo, SessionRepo
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo
from pforte.store.repos.users import ClientRoleRepo, RoleRepo, UserRepo
from pforte.store.tables import (
    ApiKeyRow,
    AuthorizationCodeRow,
    ChangeRow,
    ClientRow,
    ClientSecretRow,
    ConsentRow,
    RefreshTokenRow,
    RevokedTokenRow,
    SessionRow,
    TenantRow,
)
from tests.conftest import make_tenant

pytestmark = pytest.mark.anyio

CLIENT_ID = "isolated-app"
CredentialRepo = type[SecretRepo] | type[ApiKeyRepo]

Case = TypeVar("Case", bound=Callable[..., Awaitable[None]])

# "ClientRepo.get" → the name of the test that is its isolation case.
CASES: dict[str, str] = {}


def covers(*methods: str) -> Callable[[Case], Case]:
    """Register the decorated test as the isolation case of ``methods`` ("Class.method")."""

    def register(case: Case) -> Case:
        for method in methods:
            assert method not in CASES, f"{method} already has a case: {CASES[method]}"
            CASES[method] = case.__name__
        return case

    return register


@dataclass(frozen=True)
class World:
    """Tenant A with a confidential client, its first secret and an API key; tenant B empty."""

    a: uuid.UUID
    b: uuid.UUID
    a_slug: str
    b_slug: str
    client_pk: uuid.UUID
    secret_id: uuid.UUID
    api_key_id: uuid.UUID

    def credential_id(self, repo: CredentialRepo) -> uuid.UUID:
        return self.secret_id if repo is SecretRepo else self.api_key_id


def own(rows: Sequence[ClientRow]) -> list[ClientRow]:
    """The clients a test made: every tenant also has the consoles' built-in ones."""
    return [r for r in rows if r.client_id not in BUILTIN_CLIENT_IDS]


async def tenant_id(ctx: Context, slug: str) -> uuid.UUID:
    async with ctx.db.transaction() as session:
        row = await TenantRepo(session).get(slug)
        assert row is not None
        return row.id


@pytest.fixture
async def world(ctx: Context) -> World:
    a_slug, b_slug = await make_tenant(ctx), await make_tenant(ctx)
    spec = ClientSpec(client_id=CLIENT_ID, allowed_scopes=["clients:read"])
    client, secret = await client_service.create_client(ctx, SYSTEM_PRINCIPAL, a_slug, spec)
    assert secret is not None
    key = await create_api_key(
        ctx, SYSTEM_PRINCIPAL, a_slug, CLIENT_ID, ApiKeyRequest(name="k", scopes=["clients:read"])
    )
    return World(
        a=await tenant_id(ctx, a_slug),
        b=await tenant_id(ctx, b_slug),
        a_slug=a_slug,
        b_slug=b_slug,
        client_pk=client.id,
        secret_id=secret.record.id,
        api_key_id=key.record.id,
    )


async def credential_row(ctx: Context, world: World, repo: CredentialRepo) -> ClientSecretRow | ApiKeyRow:
    """A's credential, read with A's id in a fresh transaction."""
    async with ctx.db.transaction() as session:
        row = await repo(session).get(world.a, world.client_pk, world.credential_id(repo))
        assert row is not None
        return row


# ClientRepo ------------------------------------------------------------------------------------


@covers("ClientRepo.get")
async def test_client_get_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        assert await repo.get(world.b, CLIENT_ID) is None
        row = await repo.get(world.a, CLIENT_ID)
        assert row is not None
        assert (row.id, row.tenant_id) == (world.client_pk, world.a)


@covers("ClientRepo.page")
async def test_client_page_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        b_page = await repo.page(world.b, cursor=None, limit=50)
        assert (own(b_page.items), b_page.next) == ([], None)
        assert {r.tenant_id for r in b_page.items} == {world.b}
        a_page = await repo.page(world.a, cursor=None, limit=50)
        assert [r.id for r in own(a_page.items)] == [world.client_pk]
        assert a_page.next is None


@covers("ClientRepo.count")
async def test_client_count_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        assert await repo.count(world.b) == len(BUILTIN_CLIENT_IDS)
        assert await repo.count(world.a) == len(BUILTIN_CLIENT_IDS) + 1


@covers("ClientRepo.delete")
async def test_client_delete_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        assert await ClientRepo(session).delete(world.b, CLIENT_ID) is False
    async with ctx.db.transaction() as session:
        row = await ClientRepo(session).get(world.a, CLIENT_ID)
        assert row is not None and row.id == world.client_pk
    async with ctx.db.transaction() as session:
        assert await ClientRepo(session).delete(world.a, CLIENT_ID) is True
    async with ctx.db.transaction() as session:
        assert await ClientRepo(session).get(world.a, CLIENT_ID) is None


async def a_client_is_held(ctx: Context, session: AsyncSession, world: World) -> bool:
    """Whether ``session``'s last lock holds A's client: on SQLite, whether its no-op UPDATE
    changed a row; on PostgreSQL, whether another transaction fails to lock the row now."""
    if session.get_bind().dialect.name == "sqlite":
        return bool(await session.scalar(text("SELECT changes()")))
    try:
        async with ctx.db.transaction() as other:
            mine = select(ClientRow.id).where(ClientRow.id == world.client_pk).with_for_update(nowait=True)
            assert await other.scalar(mine) == world.client_pk
    except (DBAPIError, Unavailable):
        return True
    return False


@covers("ClientRepo.lock")
async def test_client_lock_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        assert await repo.lock(world.b, CLIENT_ID) is None
        assert await a_client_is_held(ctx, session, world) is False
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        row = await repo.lock(world.a, CLIENT_ID)
        assert row is not None
        assert (row.id, row.tenant_id, row.version) == (world.client_pk, world.a, 1)
        assert await a_client_is_held(ctx, session, world) is True


@covers("ClientRepo.enabled")
async def test_client_enabled_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        assert own(await repo.enabled(world.b)) == []
        assert [r.id for r in own(await repo.enabled(world.a))] == [world.client_pk]


@covers("ClientRepo.add")
async def test_client_add_through_the_service_is_scoped(ctx: Context, world: World) -> None:
    """The same clientId in B is a different client (no Conflict), and A's stays as it was."""
    b_row, _ = await client_service.create_client(
        ctx, SYSTEM_PRINCIPAL, world.b_slug, ClientSpec(client_id=CLIENT_ID, client_name="B's")
    )
    assert b_row.tenant_id == world.b
    assert b_row.id != world.client_pk
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        a_row, b_again = await repo.get(world.a, CLIENT_ID), await repo.get(world.b, CLIENT_ID)
        assert a_row is not None and b_again is not None
        assert (a_row.id, a_row.client_name) == (world.client_pk, None)
        assert (b_again.id, b_again.client_name) == (b_row.id, "B's")
        builtin = len(BUILTIN_CLIENT_IDS)
        assert (await repo.count(world.a), await repo.count(world.b)) == (builtin + 1, builtin + 1)


# SecretRepo and ApiKeyRepo ---------------------------------------------------------------------

credential_repos = pytest.mark.parametrize("repo", [SecretRepo, ApiKeyRepo], ids=["secret", "api_key"])


@covers("SecretRepo.get", "ApiKeyRepo.get")
@credential_repos
async def test_credential_get_is_scoped(ctx: Context, world: World, repo: CredentialRepo) -> None:
    cid = world.credential_id(repo)
    async with ctx.db.transaction() as session:
        assert await repo(session).get(world.b, world.client_pk, cid) is None
        row = await repo(session).get(world.a, world.client_pk, cid)
        assert row is not None
        assert (row.id, row.tenant_id, row.client_pk) == (cid, world.a, world.client_pk)


@covers("SecretRepo.page", "ApiKeyRepo.page")
@credential_repos
async def test_credential_page_is_scoped(ctx: Context, world: World, repo: CredentialRepo) -> None:
    async with ctx.db.transaction() as session:
        b_page = await repo(session).page(world.b, world.client_pk, cursor=None, limit=50)
        assert (b_page.items, b_page.next) == ([], None)
        a_page = await repo(session).page(world.a, world.client_pk, cursor=None, limit=50)
        assert [r.id for r in a_page.items] == [world.credential_id(repo)]


@covers("SecretRepo.delete", "ApiKeyRepo.delete")
@credential_repos
async def test_credential_delete_is_scoped(ctx: Context, world: World, repo: CredentialRepo) -> None:
    cid = world.credential_id(repo)
    async with ctx.db.transaction() as session:
        assert await repo(session).delete(world.b, world.client_pk, cid) is False
    assert (await credential_row(ctx, world, repo)).id == cid
    async with ctx.db.transaction() as session:
        assert await repo(session).delete(world.a, world.client_pk, cid) is True
    async with ctx.db.transaction() as session:
        assert await repo(session).get(world.a, world.client_pk, cid) is None


@covers("SecretRepo.touch", "ApiKeyRepo.touch")
@credential_repos
async def test_credential_touch_is_scoped(ctx: Context, world: World, repo: CredentialRepo) -> None:
    cid = world.credential_id(repo)
    at = utcnow().replace(microsecond=0) + timedelta(seconds=5)
    async with ctx.db.transaction() as session:
        await repo(session).touch(world.b, cid, at)
    assert (await credential_row(ctx, world, repo)).last_used_at is None
    async with ctx.db.transaction() as session:
        await repo(session).touch(world.a, cid, at)
    assert (await credential_row(ctx, world, repo)).last_used_at == at


@covers("SecretRepo.mark_expiring", "ApiKeyRepo.mark_expiring")
@credential_repos
async def test_credential_mark_expiring_is_scoped(ctx: Context, world: World, repo: CredentialRepo) -> None:
    cid, now = world.credential_id(repo), utcnow()
    async with ctx.db.transaction() as session:  # due within a day
        await session.execute(
            scoped_update(repo.row, world.a)
            .where(repo.row.id == cid)
            .values(expiration=now + timedelta(days=1))
        )
    async with ctx.db.transaction() as session:
        assert await repo(session).mark_expiring(world.b, now, now + timedelta(days=2)) == []
    assert (await credential_row(ctx, world, repo)).expiry_warned_at is None
    async with ctx.db.transaction() as session:
        [(row, client_id)] = await repo(session).mark_expiring(world.a, now, now + timedelta(days=2))
        assert (row.id, row.tenant_id, client_id) == (cid, world.a, CLIENT_ID)
    assert (await credential_row(ctx, world, repo)).expiry_warned_at is not None


@covers("SecretRepo.count_live")
async def test_secret_count_live_is_scoped(ctx: Context, world: World) -> None:
    now = utcnow()
    async with ctx.db.transaction() as session:
        repo = SecretRepo(session)
        assert await repo.count_live(world.b, world.client_pk, now) == 0
        assert await repo.count_live(world.a, world.client_pk, now) == 1


@covers("SecretRepo.all_of")
async def test_secret_all_of_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = SecretRepo(session)
        assert await repo.all_of(world.b, world.client_pk) == []
        assert len(await repo.all_of(world.a, world.client_pk)) == 1


@covers("SecretRepo.touch_many")
async def test_secret_touch_many_is_scoped(ctx: Context, world: World) -> None:
    at = utcnow().replace(microsecond=0) + timedelta(seconds=5)
    async with ctx.db.transaction() as session:
        await SecretRepo(session).touch_many([(world.b, world.secret_id, at)])
    assert (await credential_row(ctx, world, SecretRepo)).last_used_at is None
    async with ctx.db.transaction() as session:
        await SecretRepo(session).touch_many([(world.a, world.secret_id, at)])
    assert (await credential_row(ctx, world, SecretRepo)).last_used_at == at


@covers("ApiKeyRepo.live")
async def test_api_key_live_is_scoped(ctx: Context, world: World) -> None:
    now = utcnow()
    async with ctx.db.transaction() as session:
        repo = ApiKeyRepo(session)
        assert await repo.live(world.b, world.client_pk, now) == []
        assert [k.id for k in await repo.live(world.a, world.client_pk, now)] == [world.api_key_id]


# SigningKeyRepo and AuditRepo ------------------------------------------------------------------


@covers("SigningKeyRepo.list")
async def test_signing_key_list_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = SigningKeyRepo(session)
        a_keys, b_keys = await repo.list(world.a), await repo.list(world.b)
    # Each tenant gets exactly one key at creation; neither list shows the other's.
    assert [k.tenant_id for k in a_keys] == [world.a]
    assert [k.tenant_id for k in b_keys] == [world.b]
    assert a_keys[0].id != b_keys[0].id


@covers("SigningKeyRepo.delete_retired_before")
async def test_signing_key_delete_retired_before_is_scoped(ctx: Context, world: World) -> None:
    long_ago = utcnow() - timedelta(days=2)
    async with ctx.db.transaction() as session:
        (a_key,) = await SigningKeyRepo(session).list(world.a)
        a_key.retired_at = long_ago  # A's key left the JWKS two days ago
    async with ctx.db.transaction() as session:
        assert await SigningKeyRepo(session).delete_retired_before(world.b, utcnow()) == []
    async with ctx.db.transaction() as session:
        assert [k.id for k in await SigningKeyRepo(session).list(world.a)] == [a_key.id]
        assert await SigningKeyRepo(session).delete_retired_before(world.a, utcnow()) == [a_key.kid]
    async with ctx.db.transaction() as session:
        assert await SigningKeyRepo(session).list(world.a) == []
        assert len(await SigningKeyRepo(session).list(world.b)) == 1


@covers("AuditRepo.list")
async def test_audit_list_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = AuditRepo(session)
        a_events, b_events = await repo.list(world.a), await repo.list(world.b)
    assert {e.tenant_id for e in a_events} == {world.a}
    assert {e.tenant_id for e in b_events} == {world.b}
    consoles = ["client.created"] * len(BUILTIN_CLIENT_IDS)  # the consoles' clients, made with the tenant
    assert sorted(e.name for e in a_events) == sorted(
        [
            "api_key.created",
            "client.created",
            "client_secret.created",
            "signing_key.created",
            "tenant.created",
            *consoles,
        ]
    )
    assert sorted(e.name for e in b_events) == sorted(["signing_key.created", "tenant.created", *consoles])
    assert {e.target_id for e in b_events} & {CLIENT_ID, str(world.secret_id), str(world.api_key_id)} == set()


@covers("AuditRepo.page")
async def test_audit_page_is_scoped(ctx: Context, world: World) -> None:
    wanted = EventFilter(client_id=CLIENT_ID).checked()
    async with ctx.db.transaction() as session:
        repo = AuditRepo(session)
        assert (await repo.page(world.b, wanted, cursor=None, limit=50)).items == []
        a_page = await repo.page(world.a, wanted, cursor=None, limit=50)
    assert sorted(e.name for e in a_page.items) == [
        "api_key.created",
        "client.created",
        "client_secret.created",
    ]
    assert {e.tenant_id for e in a_page.items} == {world.a}


@covers("AuditRepo.delete_before")
async def test_audit_delete_before_is_scoped(ctx: Context, world: World) -> None:
    later = utcnow() + timedelta(seconds=1)
    async with ctx.db.transaction() as session:
        b_count = len(await AuditRepo(session).list(world.b))
        assert await AuditRepo(session).delete_before(world.b, later, limit=1000) == b_count
    async with ctx.db.transaction() as session:
        assert await AuditRepo(session).list(world.b) == []
        assert len(await AuditRepo(session).list(world.a)) > 0  # A's are all there


async def _counted(ctx: Context, world: World) -> DayRange:
    today = utcnow().date()
    ctx.events.signed_in(world.a, utcnow(), CLIENT_ID, uuid.uuid4())
    await ctx.events.flush(ctx.db)
    return DayRange(today, today)


@covers("MetricRepo.counts")
async def test_metric_counts_are_scoped(ctx: Context, world: World) -> None:
    days = await _counted(ctx, world)
    async with ctx.db.transaction() as session:
        assert await MetricRepo(session).counts(world.b, days, None) == []
        [row] = await MetricRepo(session).counts(world.a, days, None)
    assert (row.tenant_id, row.client_id, row.sign_ins) == (world.a, CLIENT_ID, 1)


@covers("MetricRepo.active_users")
async def test_metric_active_users_are_scoped(ctx: Context, world: World) -> None:
    days = await _counted(ctx, world)
    async with ctx.db.transaction() as session:
        assert await MetricRepo(session).active_users(world.b, days, None) == {}
        active = await MetricRepo(session).active_users(world.a, days, None)
    assert active == {(days.first, CLIENT_ID): 1, (days.first, None): 1}


# RevokedTokenRepo ------------------------------------------------------------------------------


@covers("RevokedTokenRepo.add")
async def test_revoked_token_add_is_scoped(ctx: Context, world: World) -> None:
    """A's revocation (written through the repository: the service needs a live JWT) is not
    B's: B's ``add`` of the same jti would write; A's sees it and writes nothing."""
    jti, expires_at = uuid.uuid4().hex, utcnow() + timedelta(hours=1)

    def revoked(tenant: uuid.UUID, client_id: str) -> RevokedTokenRow:
        return RevokedTokenRow(
            tenant_id=tenant, jti=jti, client_id=client_id, expires_at=expires_at, revoked_at=utcnow()
        )

    async with ctx.db.transaction() as session:
        assert await RevokedTokenRepo(session).add(revoked(world.a, CLIENT_ID)) is True
    async with ctx.db.transaction() as session:
        b_row = revoked(world.b, "b-app")
        assert await RevokedTokenRepo(session).add(b_row) is True
        session.expunge(b_row)  # the jti alone is the table's key: B's row would collide with A's
    async with ctx.db.transaction() as session:
        assert await RevokedTokenRepo(session).add(revoked(world.a, "again")) is False
        stmt = select(RevokedTokenRow.tenant_id, RevokedTokenRow.client_id).where(RevokedTokenRow.jti == jti)
        assert [tuple(r) for r in (await session.execute(stmt)).all()] == [(world.a, CLIENT_ID)]


# Every public repository method has a case, or is listed here with the reason ------------------

NOT_TENANT_SCOPED = {
    # They take a row, which carries its own tenant_id, and run no query.
    "SecretRepo.add",
    "ApiKeyRepo.add",
    "AuditRepo.add",
    "AuditRepo.add_batched",
    "MetricRepo.add_counts",
    "MetricRepo.add_active",
    "SigningKeyRepo.add",
    "UserRepo.add",
    "RoleRepo.add",
    "ClientRoleRepo.add",
    "SessionRepo.add",
    "CodeRepo.add",
    "ConsentRepo.add",
    "RefreshTokenRepo.add",
    # Expired codes go whatever their tenant.
    "CodeRepo.prune",
    # The look-up by the key's hash is how the caller's tenant becomes known.
    "ApiKeyRepo.authenticate",
    # Tenants are not tenant-owned: each method addresses a tenant by its own id or slug.
    "TenantRepo.get",
    "TenantRepo.get_by_slug",
    "TenantRepo.page",
    "TenantRepo.lock",
    "TenantRepo.add",
    "TenantRepo.existing",
    "TenantRepo.delete",
    # Cross-tenant jobs: automatic key rotation looks at every tenant; at start-up every
    # tenant's built-in console clients are checked against the public URL.
    "TenantRepo.with_keys_older_than",
    "TenantRepo.all",
    "ClientRepo.across_tenants",
    # The change feed is not tenant-owned: every process learns of every tenant's changes.
    "ChangeRepo.prune",
    # Every process holds the whole deny-list, and expired entries go, whatever their tenant.
    "RevokedTokenRepo.live",
    "RevokedTokenRepo.prune",
}


def repository_methods() -> set[str]:
    """ "Class.method" for every public method (inherited ones too) of every public ``…Repo``
    class defined in a module of ``pforte.store.repos``."""
    found: set[str] = set()
    for info in pkgutil.iter_modules(pforte.store.repos.__path__):
        module = importlib.import_module(f"{pforte.store.repos.__name__}.{info.name}")
        for class_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not class_name.endswith("Repo") or class_name[0] == "_":
                continue
            for name, member in inspect.getmembers(cls):
                if name[0] != "_" and (inspect.isfunction(member) or inspect.ismethod(member)):
                    found.add(f"{class_name}.{name}")
    return found


def test_every_repository_method_has_an_isolation_case() -> None:
    methods = repository_methods()
    assert {"ClientRepo.get", "SecretRepo.touch", "ApiKeyRepo.get"} <= methods  # inherited ones count
    assert not set(CASES) & NOT_TENANT_SCOPED, "a method is either covered or an exception"
    assert methods - set(CASES) - NOT_TENANT_SCOPED == set(), "methods without a tenant-isolation case"
    assert set(CASES) | NOT_TENANT_SCOPED == methods, "cases or exceptions for methods that do not exist"
    for method, case_name in CASES.items():
        case = globals()[case_name]
        # A module-level test taking ``ctx`` runs once per database (``database`` is parametrised).
        assert case_name.startswith("test_") and "ctx" in inspect.signature(case).parameters, method


@pytest.mark.parametrize("scope", [scoped_select, scoped_count, scoped_update, scoped_delete])
@pytest.mark.parametrize("row", [TenantRow, ChangeRow, object])
def test_the_scoping_helpers_refuse_a_row_that_is_not_tenant_owned(scope: Any, row: type[Any]) -> None:
    with pytest.raises(TypeError, match="is not TenantOwned"):
        scope(row, uuid.uuid4())


# Users, roles, client roles --------------------------------------------------------------------


@dataclass(frozen=True)
class People:
    """In tenant A: the role ``ops``, the user ``Ada`` holding it and the client role ``viewer``
    of the world's client, which Ada holds too. Tenant B has only its built-in ``admin``."""

    world: World
    user_id: uuid.UUID
    role_id: uuid.UUID
    client_role_id: uuid.UUID


@pytest.fixture
async def people(ctx: Context, world: World) -> People:
    role = await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, world.a_slug, name="ops", description=None, permissions=["clients:read"]
    )
    user = await user_service.create_user(
        ctx, SYSTEM_PRINCIPAL, world.a_slug, UserSpec(username="Ada"), roles=["ops"]
    )
    viewer = await role_service.create_client_role(
        ctx, SYSTEM_PRINCIPAL, world.a_slug, CLIENT_ID, name="viewer", description=None
    )
    async with ctx.db.transaction() as session:
        assert await UserRepo(session).assign_client_role(world.a, user.id, viewer.id)
    return People(world=world, user_id=user.id, role_id=role.id, client_role_id=viewer.id)


@covers("UserRepo.get")
async def test_user_get_is_scoped(ctx: Context, people: People) -> None:
    async with ctx.db.transaction() as session:
        repo = UserRepo(session)
        assert await repo.get(people.world.b, people.user_id) is None
        row = await repo.get(people.world.a, people.user_id)
        assert row is not None and (row.username, row.tenant_id) == ("Ada", people.world.a)


@covers("UserRepo.by_username")
async def test_user_by_username_is_scoped(ctx: Context, people: People) -> None:
    async with ctx.db.transaction() as session:
        repo = UserRepo(session)
        assert await repo.by_username(people.world.b, "ada") is None
        row = await repo.by_username(people.world.a, "ADA")
        assert row is not None and row.id == people.user_id


@covers("UserRepo.lock")
async def test_user_lock_is_scoped(ctx: Context, people: People) -> None:
    async with ctx.db.transaction() as session:
        assert await UserRepo(session).lock(people.world.b, people.user_id) is None
    async with ctx.db.transaction() as session:
        row = await UserRepo(session).lock(people.world.a, people.user_id)
        assert row is not None and row.id == people.user_id


@covers("UserRepo.page")
async def test_user_page_is_scoped(ctx: Context, people: People) -> None:
    async with ctx.db.transaction() as session:
        repo = UserRepo(session)
        b_page = await repo.page(people.world.b, cursor=None, limit=50)
        assert (b_page.items, b_page.next) == ([], None)
        a_page = await repo.page(people.world.a, cursor=None, limit=50)
        assert [r.id for r in a_page.items] == [people.user_id]


@covers("UserRepo.listing", "UserRepo.count")
async def test_user_listing_and_count_are_scoped(ctx: Context, people: People) -> None:
    """Every filter, and a role of tenant A named while listing tenant B."""
    wanted = UserFilter(search="ad", username="a", enabled=True, email_verified=False)
    async with ctx.db.transaction() as session:
        repo = UserRepo(session)
        for role_id in (None, people.role_id):
            b_page = await repo.listing(people.world.b, wanted, role_id=role_id, cursor=None, limit=50)
            assert (b_page.items, b_page.next) == ([], None)
            assert await repo.count(people.world.b, wanted, role_id=role_id) == 0
            a_page = await repo.listing(people.world.a, wanted, role_id=role_id, cursor=None, limit=50)
            assert [r.id for r in a_page.items] == [people.user_id]
            assert await repo.count(people.world.a, wanted, role_id=role_id) == 1


@covers("UserRepo.delete")
async def test_user_delete_is_scoped(ctx: Context, people: People) -> None:
    async with ctx.db.transaction() as session:
        assert await UserRepo(session).delete(people.world.b, people.user_id) is False
    async with ctx.db.transaction() as session:
        assert await UserRepo(session).get(people.world.a, people.user_id) is not None
        assert await UserRepo(session).delete(people.world.a, people.user_id) is True
    async with ctx.db.transaction() as session:
        assert await UserRepo(session).get(people.world.a, people.user_id) is None


@covers("UserRepo.roles_of")
async def test_user_roles_of_is_scoped(ctx: Context, people: People) -> None:
    async with ctx.db.transaction() as session:
        repo = UserRepo(session)
        assert await repo.roles_of(people.world.b, people.user_id) == []
        assert [r.name for r in await repo.roles_of(people.world.a, people.user_id)] == ["ops"]


@covers("UserRepo.role_names_of")
async def test_user_role_names_of_is_scoped(ctx: Context, people: People) -> None:
    async with ctx.db.transaction() as session:
        repo = UserRepo(session)
        assert await repo.role_names_of(people.world.b, [people.user_id]) == {}
        assert await repo.role_names_of(people.world.a, [people.user_id]) == {people.user_id: ["ops"]}


@covers("UserRepo.assign", "UserRepo.unassign")
async def test_user_role_assignment_is_scoped(ctx: Context, people: People) -> None:
    a, b = people.world.a, people.world.b
    async with ctx.db.transaction() as session:
        b_admin = await RoleRepo(session).get(b, "admin")
        a_admin = await RoleRepo(session).get(a, "admin")
        assert b_admin is not None and a_admin is not None
        repo = UserRepo(session)
        # A's user and role named with B's id, or B's role given to A's user: nothing happens.
        assert await repo.assign(b, people.user_id, a_admin.id) is False
        assert await repo.assign(a, people.user_id, b_admin.id) is False
        assert await repo.assign(b, people.user_id, b_admin.id) is False
        assert await repo.unassign(b, people.user_id, people.role_id) is False
    async with ctx.db.transaction() as session:
        repo = UserRepo(session)
        assert [r.name for r in await repo.roles_of(a, people.user_id)] == ["ops"]
        assert await repo.assign(a, people.user_id, a_admin.id) is True
        assert await repo.unassign(a, people.user_id, people.role_id) is True
    async with ctx.db.transaction() as session:
        assert [r.name for r in await UserRepo(session).roles_of(a, people.user_id)] == ["admin"]


@covers("UserRepo.client_roles_of", "UserRepo.assign_client_role", "UserRepo.unassign_client_role")
async def test_user_client_roles_are_scoped(ctx: Context, people: People) -> None:
    a, b = people.world.a, people.world.b
    async with ctx.db.transaction() as session:
        repo = UserRepo(session)
        assert await repo.client_roles_of(b, people.user_id, people.world.client_pk) == []
        assert await repo.assign_client_role(b, people.user_id, people.client_role_id) is False
        assert await repo.unassign_client_role(b, people.user_id, people.client_role_id) is False
    async with ctx.db.transaction() as session:
        repo = UserRepo(session)
        held = await repo.client_roles_of(a, people.user_id, people.world.client_pk)
        assert [r.name for r in held] == ["viewer"]
        assert await repo.assign_client_role(a, people.user_id, people.client_role_id) is False  # held
        assert await repo.unassign_client_role(a, people.user_id, people.client_role_id) is True
    async with ctx.db.transaction() as session:
        assert await UserRepo(session).client_roles_of(a, people.user_id, people.world.client_pk) == []


@covers("UserRepo.with_roles")
async def test_user_with_roles_is_scoped(ctx: Context, people: People) -> None:
    a, b, pk = people.world.a, people.world.b, people.world.client_pk
    async with ctx.db.transaction() as session:
        repo = UserRepo(session)
        assert await repo.with_roles(b, people.user_id, pk) is None
        held = await repo.with_roles(a, people.user_id, pk)
        assert held is not None and (held.user.id, held.user.username) == (people.user_id, "Ada")
        assert [r.name for r in held.roles] == ["ops"] and held.client_roles == ["viewer"]


@covers("RoleRepo.get", "RoleRepo.all")
async def test_role_reads_are_scoped(ctx: Context, people: People) -> None:
    async with ctx.db.transaction() as session:
        repo = RoleRepo(session)
        assert await repo.get(people.world.b, "ops") is None
        assert [r.name for r in await repo.all(people.world.b)] == ["admin"]
        row = await repo.get(people.world.a, "ops")
        assert row is not None and row.id == people.role_id
        assert [r.name for r in await repo.all(people.world.a)] == ["admin", "ops"]


@covers("RoleRepo.lock")
async def test_role_lock_is_scoped(ctx: Context, people: People) -> None:
    async with ctx.db.transaction() as session:
        assert await RoleRepo(session).lock(people.world.b, "ops") is None
    async with ctx.db.transaction() as session:
        row = await RoleRepo(session).lock(people.world.a, "ops", shared=True)
        assert row is not None and row.id == people.role_id


@covers("RoleRepo.delete")
async def test_role_delete_is_scoped(ctx: Context, people: People) -> None:
    async with ctx.db.transaction() as session:
        assert await RoleRepo(session).delete(people.world.b, "ops") is False
    async with ctx.db.transaction() as session:
        assert await RoleRepo(session).get(people.world.a, "ops") is not None
        assert await RoleRepo(session).delete(people.world.a, "ops") is True
    async with ctx.db.transaction() as session:
        assert await RoleRepo(session).get(people.world.a, "ops") is None


@covers("ClientRoleRepo.get", "ClientRoleRepo.all_of")
async def test_client_role_reads_are_scoped(ctx: Context, people: People) -> None:
    pk = people.world.client_pk
    async with ctx.db.transaction() as session:
        repo = ClientRoleRepo(session)
        assert await repo.get(people.world.b, pk, "viewer") is None
        assert await repo.all_of(people.world.b, pk) == []
        row = await repo.get(people.world.a, pk, "viewer")
        assert row is not None and row.id == people.client_role_id
        assert [r.name for r in await repo.all_of(people.world.a, pk)] == ["viewer"]


@covers("ClientRoleRepo.delete")
async def test_client_role_delete_is_scoped(ctx: Context, people: People) -> None:
    pk = people.world.client_pk
    async with ctx.db.transaction() as session:
        assert await ClientRoleRepo(session).delete(people.world.b, pk, "viewer") is False
    async with ctx.db.transaction() as session:
        assert await ClientRoleRepo(session).get(people.world.a, pk, "viewer") is not None
        assert await ClientRoleRepo(session).delete(people.world.a, pk, "viewer") is True
    async with ctx.db.transaction() as session:
        assert await ClientRoleRepo(session).get(people.world.a, pk, "viewer") is None


@covers("ClientRepo.restricted_to")
async def test_client_restricted_to_is_scoped(ctx: Context, people: People) -> None:
    await client_service.patch_client(
        ctx, SYSTEM_PRINCIPAL, people.world.a_slug, CLIENT_ID, {"restrict_to_role": "ops"}
    )
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        assert await repo.restricted_to(people.world.b, "ops") == []
        assert [c.client_id for c in await repo.restricted_to(people.world.a, "ops")] == [CLIENT_ID]


# Sessions, authorization codes, consents -------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    people: People
    session_id: uuid.UUID
    code_hash: str


@pytest.fixture
async def signed(ctx: Context, people: People) -> Signed:
    a, now = people.world.a, utcnow()
    session_id, code_hash = uuid.uuid4(), uuid.uuid4().hex
    async with ctx.db.transaction() as session:
        session.add(
            SessionRow(
                id=session_id,
                tenant_id=a,
                user_id=people.user_id,
                secret_hash="h-" + code_hash,
                sid="sid",
                auth_time=now,
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        await session.flush()
        session.add(
            AuthorizationCodeRow(
                code_hash=code_hash,
                tenant_id=a,
                client_pk=people.world.client_pk,
                user_id=people.user_id,
                session_id=session_id,
                redirect_uri="https://app.example.com/cb",
                scopes=["openid"],
                auth_time=now,
                created_at=now,
                expires_at=now + timedelta(minutes=1),
            )
        )
        session.add(
            ConsentRow(
                tenant_id=a,
                user_id=people.user_id,
                client_pk=people.world.client_pk,
                scopes=["openid"],
                created_at=now,
                updated_at=now,
            )
        )
    return Signed(people=people, session_id=session_id, code_hash=code_hash)


@covers("SessionRepo.by_secret_hash")
async def test_session_by_secret_hash_is_scoped(ctx: Context, signed: Signed) -> None:
    a, b = signed.people.world.a, signed.people.world.b
    async with ctx.db.transaction() as session:
        repo = SessionRepo(session)
        assert await repo.by_secret_hash(b, "h-" + signed.code_hash) is None
        row = await repo.by_secret_hash(a, "h-" + signed.code_hash)
        assert row is not None and row.id == signed.session_id


@covers("SessionRepo.of_user")
async def test_sessions_of_a_user_are_scoped(ctx: Context, signed: Signed) -> None:
    async with ctx.db.transaction() as session:
        assert await SessionRepo(session).of_user(signed.people.world.b, signed.people.user_id) == []
        rows = await SessionRepo(session).of_user(signed.people.world.a, signed.people.user_id)
        assert [r.id for r in rows] == [signed.session_id]


@covers("SessionRepo.delete", "SessionRepo.delete_of_user")
async def test_session_deletes_are_scoped(ctx: Context, signed: Signed) -> None:
    a, b, user = signed.people.world.a, signed.people.world.b, signed.people.user_id
    async with ctx.db.transaction() as session:
        assert await SessionRepo(session).delete(b, signed.session_id) is False
        assert await SessionRepo(session).delete_of_user(b, user) == 0
    async with ctx.db.transaction() as session:
        assert await SessionRepo(session).delete_of_user(a, user) == 1
    async with ctx.db.transaction() as session:
        assert await SessionRepo(session).delete(a, signed.session_id) is False  # already gone


@covers("CodeRepo.lock")
async def test_code_lock_is_scoped(ctx: Context, signed: Signed) -> None:
    async with ctx.db.transaction() as session:
        assert await CodeRepo(session).lock(signed.people.world.b, signed.code_hash) is None
    async with ctx.db.transaction() as session:
        row = await CodeRepo(session).lock(signed.people.world.a, signed.code_hash)
        assert row is not None and row.user_id == signed.people.user_id


@covers("CodeRepo.use", "CodeRepo.note_issued")
async def test_code_use_is_scoped(ctx: Context, signed: Signed) -> None:
    a, b, now = signed.people.world.a, signed.people.world.b, utcnow()
    async with ctx.db.transaction() as session:
        codes = CodeRepo(session)
        assert await codes.use(b, signed.code_hash, now) is None
        await codes.note_issued(b, signed.code_hash, jti="jti-b", jti_expires_at=now, family_id=None)
    async with ctx.db.transaction() as session:
        row = await CodeRepo(session).lock(a, signed.code_hash)
        assert row is not None and (row.used_at, row.issued_jti) == (None, None)  # B's calls changed nothing
    async with ctx.db.transaction() as session:
        codes = CodeRepo(session)
        used = await codes.use(a, signed.code_hash, now)
        assert used is not None and used.user_id == signed.people.user_id
        await codes.note_issued(a, signed.code_hash, jti="jti-a", jti_expires_at=now, family_id=None)
    async with ctx.db.transaction() as session:
        row = await CodeRepo(session).lock(a, signed.code_hash)
        assert row is not None and row.used_at is not None and row.issued_jti == "jti-a"
        assert await CodeRepo(session).use(a, signed.code_hash, now) is None  # used once


@covers("ConsentRepo.get", "ConsentRepo.delete")
async def test_consents_are_scoped(ctx: Context, signed: Signed) -> None:
    a, b = signed.people.world.a, signed.people.world.b
    user, pk = signed.people.user_id, signed.people.world.client_pk
    async with ctx.db.transaction() as session:
        repo = ConsentRepo(session)
        assert await repo.get(b, user, pk) is None
        assert await repo.delete(b, user, pk) is False
    async with ctx.db.transaction() as session:
        row = await ConsentRepo(session).get(a, user, pk)
        assert row is not None and row.scopes == ["openid"]
        assert await ConsentRepo(session).delete(a, user, pk) is True


@covers("SessionRepo.note_client", "SessionRepo.clients_of")
async def test_session_clients_are_scoped(ctx: Context, signed: Signed) -> None:
    a, b, pk = signed.people.world.a, signed.people.world.b, signed.people.world.client_pk
    async with ctx.db.transaction() as session:
        await SessionRepo(session).note_client(b, signed.session_id, pk)
    async with ctx.db.transaction() as session:
        assert await SessionRepo(session).clients_of(a, signed.session_id) == []
        assert await SessionRepo(session).clients_of(b, signed.session_id) == []
    async with ctx.db.transaction() as session:
        await SessionRepo(session).note_client(a, signed.session_id, pk)
        await SessionRepo(session).note_client(a, signed.session_id, pk)  # once
    async with ctx.db.transaction() as session:
        assert [c.id for c in await SessionRepo(session).clients_of(a, signed.session_id)] == [pk]
        assert await SessionRepo(session).clients_of(b, signed.session_id) == []


@covers("ClientRepo.cors_origins")
async def test_client_cors_origins_are_scoped(ctx: Context, world: World) -> None:
    await client_service.patch_client(
        ctx, SYSTEM_PRINCIPAL, world.a_slug, CLIENT_ID, {"allowed_cors_origins": ["https://a.example.com"]}
    )
    async with ctx.db.transaction() as session:
        assert await ClientRepo(session).cors_origins(world.b) == set()
        assert await ClientRepo(session).cors_origins(world.a) == {"https://a.example.com"}


@covers("ClientRepo.by_pk")
async def test_client_by_pk_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        assert await ClientRepo(session).by_pk(world.b, world.client_pk) is None
        row = await ClientRepo(session).by_pk(world.a, world.client_pk)
        assert row is not None and row.client_id == CLIENT_ID


@covers(
    "RefreshTokenRepo.get",
    "RefreshTokenRepo.lock",
    "RefreshTokenRepo.revoke_family",
    "RefreshTokenRepo.revoke_of_session",
    "RefreshTokenRepo.revoke_of_user",
)
async def test_refresh_tokens_are_scoped(ctx: Context, signed: Signed) -> None:
    a, b, user = signed.people.world.a, signed.people.world.b, signed.people.user_id
    family, now = uuid.uuid4(), utcnow()
    async with ctx.db.transaction() as session:
        session.add(
            RefreshTokenRow(
                id=uuid.uuid4(),
                tenant_id=a,
                token_hash="rt-" + signed.code_hash,
                family_id=family,
                client_pk=signed.people.world.client_pk,
                user_id=user,
                session_id=signed.session_id,
                scopes=["openid"],
                auth_time=now,
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
        )
    async with ctx.db.transaction() as session:
        repo = RefreshTokenRepo(session)
        assert await repo.get(b, "rt-" + signed.code_hash) is None
        assert await repo.lock(b, "rt-" + signed.code_hash) is None
        assert await repo.revoke_family(b, family, now) == 0
        assert await repo.revoke_of_session(b, signed.session_id, now) == 0
        assert await repo.revoke_of_user(b, user, now) == 0
    async with ctx.db.transaction() as session:
        repo = RefreshTokenRepo(session)
        row = await repo.lock(a, "rt-" + signed.code_hash)
        assert row is not None and row.revoked_at is None and (await repo.get(a, row.token_hash)) is not None
    for revoke in ("revoke_family", "revoke_of_session", "revoke_of_user"):
        async with ctx.db.transaction() as session:
            repo = RefreshTokenRepo(session)
            target = {
                "revoke_family": family,
                "revoke_of_session": signed.session_id,
                "revoke_of_user": user,
            }[revoke]
            assert await getattr(repo, revoke)(a, target, now) == 1
            row = await repo.get(a, "rt-" + signed.code_hash)
            assert row is not None and row.revoked_at is not None
            row.revoked_at = None  # for the next method


@covers(
    "ConsentRepo.of_user",
    "ClientRepo.for_account",
    "RefreshTokenRepo.live_clients_of_user",
    "RefreshTokenRepo.revoke_of_user_client",
)
async def test_the_account_consoles_reads_are_scoped(ctx: Context, signed: Signed) -> None:
    a, b, user = signed.people.world.a, signed.people.world.b, signed.people.user_id
    pk, now = signed.people.world.client_pk, utcnow()
    async with ctx.db.transaction() as session:
        session.add(
            RefreshTokenRow(
                id=uuid.uuid4(),
                tenant_id=a,
                token_hash="rt-account-" + signed.code_hash,
                family_id=uuid.uuid4(),
                client_pk=pk,
                user_id=user,
                session_id=signed.session_id,
                scopes=["openid"],
                auth_time=now,
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
        )
    async with ctx.db.transaction() as session:
        assert await ConsentRepo(session).of_user(b, user) == []
        assert await ClientRepo(session).for_account(b, [pk]) == []
        assert await RefreshTokenRepo(session).live_clients_of_user(b, user, now) == set()
        assert await RefreshTokenRepo(session).revoke_of_user_client(b, user, pk, now) == 0
    async with ctx.db.transaction() as session:
        assert [c.client_pk for c in await ConsentRepo(session).of_user(a, user)] == [pk]
        assert [c.id for c in await ClientRepo(session).for_account(a, [pk])] == [pk]
        assert await RefreshTokenRepo(session).live_clients_of_user(a, user, now) == {pk}
        assert await RefreshTokenRepo(session).revoke_of_user_client(a, user, pk, now) == 1
    async with ctx.db.transaction() as session:
        assert await RefreshTokenRepo(session).live_clients_of_user(a, user, now) == set()


@covers("ClientRepo.listing")
async def test_client_listing_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        for sort in ("name", "clientId", "created"):
            b_page = await repo.listing(world.b, query="", sort=sort, cursor=None, limit=50)
            assert own(b_page.items) == [] and {r.tenant_id for r in b_page.items} == {world.b}
            assert (await repo.listing(world.b, query="isol", sort=sort, cursor=None, limit=50)).items == []
            a_page = await repo.listing(world.a, query="ISOL", sort=sort, cursor=None, limit=50)
            assert [r.id for r in a_page.items] == [world.client_pk]


@covers("RefreshTokenRepo.insert", "RefreshTokenRepo.use")
async def test_refresh_token_use_is_scoped(ctx: Context, signed: Signed) -> None:
    a, b, pk, now = signed.people.world.a, signed.people.world.b, signed.people.world.client_pk, utcnow()
    token_hash = "rt-use-" + signed.code_hash
    async with ctx.db.transaction() as session:
        await RefreshTokenRepo(session).insert(
            NewRefreshToken(
                id=uuid.uuid4(),
                tenant_id=a,
                token_hash=token_hash,
                family_id=uuid.uuid4(),
                client_pk=pk,
                user_id=signed.people.user_id,
                session_id=signed.session_id,
                scopes=["openid"],
                sid="sid",
                auth_time=now,
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
        )
    async with ctx.db.transaction() as session:
        repo = RefreshTokenRepo(session)
        assert await repo.get(b, token_hash) is None
        assert await repo.use(b, token_hash, client_pk=pk, now=now) is None
    async with ctx.db.transaction() as session:
        repo = RefreshTokenRepo(session)
        row = await repo.get(a, token_hash)
        assert row is not None and row.used_at is None  # B's use changed nothing
        used = await repo.use(a, token_hash, client_pk=pk, now=now)
        assert used is not None and (used.user_id, used.scopes) == (signed.people.user_id, ["openid"])
        assert await repo.use(a, token_hash, client_pk=pk, now=now) is None  # rotated once


@covers("AuditRepo.of_client")
async def test_audit_of_client_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = AuditRepo(session)
        assert await repo.of_client(world.b, CLIENT_ID, [str(world.secret_id), str(world.api_key_id)]) == []
        events = await repo.of_client(world.a, CLIENT_ID, [str(world.secret_id), str(world.api_key_id)])
    assert {e.tenant_id for e in events} == {world.a}
    assert sorted(e.name for e in events) == ["api_key.created", "client.created", "client_secret.created"]
