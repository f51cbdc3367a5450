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
from collections.abc import Awaitable, Callable
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
from pforte.domain.errors import Unavailable
from pforte.services import clients as client_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.services.credentials import ApiKeyRequest, create_api_key
from pforte.store.repos.audit import AuditRepo
from pforte.store.repos.changes import RevokedTokenRepo
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.credentials import ApiKeyRepo, SecretRepo
from pforte.store.repos.scoping import scoped_count, scoped_delete, scoped_select, scoped_update
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo
from pforte.store.tables import ApiKeyRow, ChangeRow, ClientRow, ClientSecretRow, RevokedTokenRow, TenantRow
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
        assert (b_page.items, b_page.next) == ([], None)
        a_page = await repo.page(world.a, cursor=None, limit=50)
        assert [r.id for r in a_page.items] == [world.client_pk]
        assert a_page.next is None


@covers("ClientRepo.count")
async def test_client_count_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        assert await repo.count(world.b) == 0
        assert await repo.count(world.a) == 1


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
        assert await repo.enabled(world.b) == []
        assert [r.id for r in await repo.enabled(world.a)] == [world.client_pk]


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
        assert (await repo.count(world.a), await repo.count(world.b)) == (1, 1)


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
    assert sorted(e.name for e in a_events) == [
        "api_key.created",
        "client.created",
        "client_secret.created",
        "signing_key.created",
        "tenant.created",
    ]
    assert sorted(e.name for e in b_events) == ["signing_key.created", "tenant.created"]
    assert {e.target_id for e in b_events} & {CLIENT_ID, str(world.secret_id), str(world.api_key_id)} == set()


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
    "SigningKeyRepo.add",
    # The look-up by the key's hash is how the caller's tenant becomes known.
    "ApiKeyRepo.authenticate",
    # Tenants are not tenant-owned: each method addresses a tenant by its own id or slug.
    "TenantRepo.get",
    "TenantRepo.get_by_slug",
    "TenantRepo.page",
    "TenantRepo.lock",
    "TenantRepo.add",
    "TenantRepo.delete",
    # Cross-tenant jobs: automatic key rotation looks at every tenant.
    "TenantRepo.with_keys_older_than",
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
