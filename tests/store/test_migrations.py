"""Alembic migrations against the models, on SQLite and PostgreSQL; SQLite pragmas; tenant cascade."""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

import pforte.store.tables  # noqa: F401 - registers every table on Base.metadata
from pforte.domain.clients import ClientSpec
from pforte.domain.clock import utcnow
from pforte.domain.consoles import BUILTIN_CLIENT_IDS
from pforte.domain.users import UserSpec
from pforte.services import clients as client_service
from pforte.services import roles as role_service
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.services.credentials import ApiKeyRequest, create_api_key, list_api_keys, list_secrets
from pforte.settings import Settings
from pforte.store.base import Base
from pforte.store.engine import Database
from pforte.store.migrate import alembic_config, upgrade
from pforte.store.repos.tenants import TenantRepo
from pforte.store.repos.users import UserRepo
from pforte.store.revision import code_revisions, database_revision
from pforte.store.tables import AuthorizationCodeRow, ConsentRow, RevokedTokenRow, SessionRow
from tests.conftest import FAST_PASSWORDS, PUBLIC_URL, SECRET_KEY, make_tenant, snapshot

pytestmark = pytest.mark.anyio

TENANT_OWNED = (
    "clients",
    "client_secrets",
    "api_keys",
    "signing_keys",
    "audit_events",
    "revoked_tokens",
    "users",
    "roles",
    "client_roles",
    "user_roles",
    "user_client_roles",
    "sessions",
    "authorization_codes",
    "consents",
    "refresh_tokens",
    "session_clients",
)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def schema_diff(connection: Connection) -> list[Any]:
    """What autogenerate would add or drop. SQLAlchemy cannot reflect expression indexes (the
    clients' lower(...) ones, migration 0006); it skips them on both sides, with a warning."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        return list(compare_metadata(context, Base.metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def version(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())


async def test_models_and_migrations_agree(ctx: Context) -> None:
    async with ctx.db.engine.connect() as conn:
        assert await conn.run_sync(schema_diff) == []


async def test_database_is_at_the_head_revision(ctx: Context) -> None:
    assert head_revision() == "0009"
    assert await version(ctx.db) == [head_revision()]


async def test_the_readiness_probe_reads_both_revisions_as_alembic_does(ctx: Context) -> None:
    """``store.revision`` reads the migration files without Alembic: the same head, every
    revision known, and the database's revision as ``alembic_version`` holds it."""
    script = ScriptDirectory.from_config(alembic_config())
    assert code_revisions().head == head_revision()
    assert code_revisions().known == {revision.revision for revision in script.walk_revisions()}
    async with ctx.db.transaction() as session:
        assert await database_revision(session) == head_revision()


async def test_a_database_never_migrated_has_no_revision(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        async with db.transaction() as session:
            assert await database_revision(session) is None
    finally:
        await db.dispose()


async def test_upgrade_twice_is_a_no_op(ctx: Context) -> None:
    await make_tenant(ctx)  # some rows, so that a re-run that recreated tables would show
    before = await snapshot(ctx)
    async with ctx.db.engine.connect() as conn:
        tables_before = await conn.run_sync(table_names)
    await upgrade(ctx.db.engine)
    await upgrade(ctx.db.engine)
    assert await snapshot(ctx) == before
    assert await version(ctx.db) == [head_revision()]
    async with ctx.db.engine.connect() as conn:
        assert await conn.run_sync(table_names) == tables_before
        assert await conn.run_sync(schema_diff) == []


async def test_fresh_sqlite_file_migrates_from_empty_and_back(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(table_names) == set()
        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(table_names) == {*Base.metadata.tables, "alembic_version"}
            assert await conn.run_sync(schema_diff) == []
        assert await version(db) == [head_revision()]

        def downgrade(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")

        async with db.engine.begin() as conn:
            await conn.run_sync(downgrade)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(table_names) == {"alembic_version"}
        assert await version(db) == []
        await upgrade(db.engine)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(schema_diff) == []
    finally:
        await db.dispose()


async def test_credentials_from_before_0007_have_no_creator(empty_database_url: str) -> None:
    """0007 adds ``created_by`` to client secrets and API keys; a row that existed before it
    keeps NULL (createdBy: null), and going down and up again keeps every row."""
    settings = Settings(
        database_url=empty_database_url, secret_key=SECRET_KEY, public_url=PUBLIC_URL, **FAST_PASSWORDS
    )
    ctx = Context.create(settings)
    try:
        await upgrade(ctx.db.engine)
        slug = await make_tenant(ctx)
        spec = ClientSpec(client_id="old-app", allowed_scopes=["clients:read"])
        _, first = await client_service.create_client(ctx, SYSTEM_PRINCIPAL, slug, spec)
        key = await create_api_key(
            ctx, SYSTEM_PRINCIPAL, slug, "old-app", ApiKeyRequest(name="k", scopes=["clients:read"])
        )
        assert first is not None
        assert first.record.created_by == key.record.created_by == "system:pforte"

        def to_0006(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")

        async with ctx.db.engine.begin() as conn:
            await conn.run_sync(to_0006)
        assert await version(ctx.db) == ["0006"]
        await upgrade(ctx.db.engine)
        assert await version(ctx.db) == [head_revision()]

        secrets = await list_secrets(ctx, SYSTEM_PRINCIPAL, slug, "old-app", cursor=None, limit=None)
        keys = await list_api_keys(ctx, SYSTEM_PRINCIPAL, slug, "old-app", cursor=None, limit=None)
        assert [(s.id, s.created_by) for s in secrets.items] == [(first.record.id, None)]
        assert [(k.id, k.created_by) for k in keys.items] == [(key.record.id, None)]
    finally:
        await ctx.db.dispose()


async def test_sqlite_connections_carry_the_pragmas(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    try:
        # Two connections held at once: the pragmas are set on every pooled connection.
        async with db.engine.connect() as first, db.engine.connect() as second:
            for conn in (first, second):
                assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
                assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
                assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
                assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
    finally:
        await db.dispose()


async def test_the_database_enforces_foreign_keys(ctx: Context) -> None:
    """A row pointing at no tenant is refused (on SQLite only thanks to the pragma)."""
    audit = Base.metadata.tables["audit_events"]
    row = {
        "id": uuid.uuid4(),
        "tenant_id": uuid.uuid4(),
        "name": "tenant.created",
        "actor": "system:pforte",
        "actor_tenant": "system",
        "target_type": "tenant",
        "target_id": "ghost",
        "changes": {},
        "created_at": utcnow(),
    }
    before = await snapshot(ctx)
    with pytest.raises(IntegrityError):
        async with ctx.db.transaction() as session:
            await session.execute(insert(audit).values(**row))
    assert await snapshot(ctx) == before


async def rows_per_table(ctx: Context, tenant: uuid.UUID) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with ctx.db.transaction() as session:
        for name in TENANT_OWNED:
            table = Base.metadata.tables[name]
            stmt = select(func.count()).select_from(table).where(table.c.tenant_id == tenant)
            counts[name] = int((await session.execute(stmt)).scalar_one())
    return counts


async def populated_tenant(ctx: Context) -> uuid.UUID:
    """A tenant with one client, its first secret, an API key, its signing key, a revoked token,
    the role admin, a user holding it and a client role of the client, and eight events."""
    slug = await make_tenant(ctx)
    spec = ClientSpec(client_id="cascade-app", allowed_scopes=["clients:read"])
    await client_service.create_client(ctx, SYSTEM_PRINCIPAL, slug, spec)
    await create_api_key(
        ctx, SYSTEM_PRINCIPAL, slug, "cascade-app", ApiKeyRequest(name="k", scopes=["clients:read"])
    )
    user = await user_service.create_user(
        ctx, SYSTEM_PRINCIPAL, slug, UserSpec(username="ada"), roles=["admin"]
    )
    await role_service.create_client_role(
        ctx, SYSTEM_PRINCIPAL, slug, "cascade-app", name="viewer", description=None
    )
    async with ctx.db.transaction() as session:
        tenant = await TenantRepo(session).get(slug)
        assert tenant is not None
        _, role = await role_service.existing_client_role(session, tenant, "cascade-app", "viewer")
        assert await UserRepo(session).assign_client_role(tenant.id, user.id, role.id)
        now = utcnow()
        signed_in = SessionRow(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            user_id=user.id,
            secret_hash=uuid.uuid4().hex,
            sid="sid",
            auth_time=now,
            created_at=now,
            expires_at=now,
        )
        session.add(signed_in)
        await session.flush()
        session.add(
            AuthorizationCodeRow(
                code_hash=uuid.uuid4().hex,
                tenant_id=tenant.id,
                client_pk=role.client_pk,
                user_id=user.id,
                session_id=signed_in.id,
                redirect_uri="https://app.example.com/cb",
                scopes=["openid"],
                auth_time=now,
                created_at=now,
                expires_at=now,
            )
        )
        session.add(
            ConsentRow(
                tenant_id=tenant.id,
                user_id=user.id,
                client_pk=role.client_pk,
                scopes=[],
                created_at=now,
                updated_at=now,
            )
        )
    async with ctx.db.transaction() as session:
        row = await TenantRepo(session).get(slug)
        assert row is not None
        now = utcnow()
        session.add(
            RevokedTokenRow(
                tenant_id=row.id,
                jti=uuid.uuid4().hex,
                client_id="cascade-app",
                expires_at=now,
                revoked_at=now,
            )
        )
        return row.id


async def test_deleting_a_tenant_cascades_to_its_rows_only(ctx: Context) -> None:
    doomed, kept = await populated_tenant(ctx), await populated_tenant(ctx)
    full = {
        "clients": 1 + len(BUILTIN_CLIENT_IDS),  # the consoles' clients come with the tenant
        "client_secrets": 1,
        "api_keys": 1,
        "signing_keys": 1,
        "audit_events": 7 + len(BUILTIN_CLIENT_IDS),
        "revoked_tokens": 1,
        "users": 1,
        "roles": 1,
        "client_roles": 1,
        "user_roles": 1,
        "user_client_roles": 1,
        "sessions": 1,
        "authorization_codes": 1,
        "consents": 1,
        "refresh_tokens": 0,
        "session_clients": 0,
    }
    assert await rows_per_table(ctx, doomed) == full
    assert await rows_per_table(ctx, kept) == full

    async with ctx.db.transaction() as session:
        await TenantRepo(session).delete(doomed)

    assert await rows_per_table(ctx, doomed) == dict.fromkeys(TENANT_OWNED, 0)
    assert await rows_per_table(ctx, kept) == full
    async with ctx.db.transaction() as session:
        assert await TenantRepo(session).get(str(doomed)) is None
        assert await TenantRepo(session).get(str(kept)) is not None
