"""Tenant scoping at the store's one chokepoint (CONVENTIONS §2 rule 6), per repository method.

Each test writes in tenant A through the services, calls the method with tenant B's id and
expects not-found / empty / 0 / False / nothing changed; then makes the same call with A's id
and expects A's row, so that a method ignoring ``tenant_id`` altogether cannot pass.
Runs on SQLite and PostgreSQL (the ``database`` fixture is parametrised).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest

from pforte.domain.clients import ClientSpec
from pforte.domain.clock import utcnow
from pforte.services import clients as client_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.services.credentials import ApiKeyRequest, create_api_key
from pforte.store.repos.audit import AuditRepo
from pforte.store.repos.clients import ClientRepo
from pforte.store.repos.credentials import ApiKeyRepo, SecretRepo
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo
from pforte.store.tables import ApiKeyRow, ClientSecretRow
from tests.conftest import make_tenant

pytestmark = pytest.mark.anyio

CLIENT_ID = "isolated-app"
CredentialRepo = type[SecretRepo] | type[ApiKeyRepo]


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


async def test_client_get_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        assert await repo.get(world.b, CLIENT_ID) is None
        row = await repo.get(world.a, CLIENT_ID)
        assert row is not None
        assert (row.id, row.tenant_id) == (world.client_pk, world.a)


async def test_client_page_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        b_page = await repo.page(world.b, cursor=None, limit=50)
        assert (b_page.items, b_page.next) == ([], None)
        a_page = await repo.page(world.a, cursor=None, limit=50)
        assert [r.id for r in a_page.items] == [world.client_pk]
        assert a_page.next is None


async def test_client_count_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = ClientRepo(session)
        assert await repo.count(world.b) == 0
        assert await repo.count(world.a) == 1


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


@credential_repos
async def test_credential_get_is_scoped(ctx: Context, world: World, repo: CredentialRepo) -> None:
    cid = world.credential_id(repo)
    async with ctx.db.transaction() as session:
        assert await repo(session).get(world.b, world.client_pk, cid) is None
        row = await repo(session).get(world.a, world.client_pk, cid)
        assert row is not None
        assert (row.id, row.tenant_id, row.client_pk) == (cid, world.a, world.client_pk)


@credential_repos
async def test_credential_page_is_scoped(ctx: Context, world: World, repo: CredentialRepo) -> None:
    async with ctx.db.transaction() as session:
        b_page = await repo(session).page(world.b, world.client_pk, cursor=None, limit=50)
        assert (b_page.items, b_page.next) == ([], None)
        a_page = await repo(session).page(world.a, world.client_pk, cursor=None, limit=50)
        assert [r.id for r in a_page.items] == [world.credential_id(repo)]


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


async def test_secret_count_live_is_scoped(ctx: Context, world: World) -> None:
    now = utcnow()
    async with ctx.db.transaction() as session:
        repo = SecretRepo(session)
        assert await repo.count_live(world.b, world.client_pk, now) == 0
        assert await repo.count_live(world.a, world.client_pk, now) == 1


async def test_secret_all_of_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = SecretRepo(session)
        assert await repo.all_of(world.b, world.client_pk) == []
        assert len(await repo.all_of(world.a, world.client_pk)) == 1


async def test_secret_touch_many_is_scoped(ctx: Context, world: World) -> None:
    at = utcnow().replace(microsecond=0) + timedelta(seconds=5)
    async with ctx.db.transaction() as session:
        await SecretRepo(session).touch_many([(world.b, world.secret_id, at)])
    assert (await credential_row(ctx, world, SecretRepo)).last_used_at is None
    async with ctx.db.transaction() as session:
        await SecretRepo(session).touch_many([(world.a, world.secret_id, at)])
    assert (await credential_row(ctx, world, SecretRepo)).last_used_at == at


# SigningKeyRepo and AuditRepo ------------------------------------------------------------------


async def test_signing_key_list_is_scoped(ctx: Context, world: World) -> None:
    async with ctx.db.transaction() as session:
        repo = SigningKeyRepo(session)
        a_keys, b_keys = await repo.list(world.a), await repo.list(world.b)
    # Each tenant gets exactly one key at creation; neither list shows the other's.
    assert [k.tenant_id for k in a_keys] == [world.a]
    assert [k.tenant_id for k in b_keys] == [world.b]
    assert a_keys[0].id != b_keys[0].id


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
