"""Shared fixtures: a real SQLite file and a throwaway PostgreSQL database per run.

Every database test runs on both. PostgreSQL comes from ``PFORTE_TEST_POSTGRES_URL``
(default: postgres@127.0.0.1:5432/test, trust auth); a fresh database is created for the run
and dropped after it. Without PostgreSQL those tests skip with the reason — except under
``CI=true``, where they fail.

Credentials are obtained through the services, as ``pforte init`` does: there is no test-only
door into the app.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from pforte.app import create_app
from pforte.domain.clients import ClientSpec
from pforte.services import clients as client_service
from pforte.services import tenants as tenant_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL, BootstrapCredentials, initialise
from pforte.services.context import Context
from pforte.services.credentials import ApiKeyRequest, create_api_key
from pforte.settings import Settings
from pforte.store.base import Base
from pforte.store.repos.tenants import TenantRepo
from pforte.store.tables import AuditEventRow

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"
PUBLIC_URL = "http://127.0.0.1:8000"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _pg_admin_dsn() -> str:
    url = make_url(os.environ.get("PFORTE_TEST_POSTGRES_URL", PG_DEFAULT))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_execute(sql: str) -> None:
    conn = await asyncpg.connect(_pg_admin_dsn(), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards. Skips (fails when
    CI=true) if PostgreSQL is not reachable."""
    name = f"pforte_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL is not reachable at {make_url(_pg_admin_dsn()).render_as_string()}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires PostgreSQL; {reason}")
        pytest.skip(reason)
    try:
        yield str(
            make_url(os.environ.get("PFORTE_TEST_POSTGRES_URL", PG_DEFAULT))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of the parameter's kind, for a test that needs one of
    its own (it changes the schema, or starts from nothing)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'pforte.db'}"
        return
    with throwaway_postgres() as url:
        yield url


@dataclass
class Database:
    kind: str
    url: str
    bootstrap: BootstrapCredentials


# argon2id at its lightest for the suite (the defaults cost ~0.15 s per hash); tests of the
# parameters themselves set their own.
FAST_PASSWORDS: dict[str, Any] = {
    "password_time_cost": 1,
    "password_memory_kib": 8192,
    "password_parallelism": 1,
}


def _settings(url: str, **extra: Any) -> Settings:
    return Settings(
        database_url=url, secret_key=SECRET_KEY, public_url=PUBLIC_URL, **{**FAST_PASSWORDS, **extra}
    )


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One migrated database per kind for the whole run, with the system tenant."""

    async def init(url: str) -> BootstrapCredentials:
        ctx = Context.create(_settings(url))
        try:
            created = await initialise(ctx)
        finally:
            await ctx.db.dispose()
        assert created is not None
        return created

    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'pforte.db'}"
        yield Database(kind="sqlite", url=url, bootstrap=asyncio.run(init(url)))
        return
    with throwaway_postgres() as url:
        yield Database(kind="postgresql", url=url, bootstrap=asyncio.run(init(url)))


@pytest.fixture
def settings(database: Database) -> Settings:
    return _settings(database.url)


@pytest.fixture
async def ctx(settings: Settings) -> AsyncIterator[Context]:
    context = Context.create(settings)
    yield context
    await context.db.dispose()


@pytest.fixture
async def client(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ctx.settings, ctx)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def operator_key(database: Database) -> str:
    """The bootstrap API key: tenants:admin in the system tenant."""
    return database.bootstrap.api_key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def admin(operator_key: str) -> dict[str, str]:
    """Headers with the operator's API key."""
    return bearer(operator_key)


async def make_tenant(ctx: Context, slug: str | None = None) -> str:
    slug = slug or f"t-{uuid.uuid4().hex[:10]}"
    await tenant_service.create_tenant(ctx, SYSTEM_PRINCIPAL, tenant_service.TenantCreate(slug=slug))
    return slug


async def tenant_id_of(ctx: Context, slug: str) -> uuid.UUID:
    """The id of the tenant ``slug`` names."""
    async with ctx.db.transaction() as session:
        row = await TenantRepo(session).get(slug)
        assert row is not None
        return row.id


@pytest.fixture
async def tenant(ctx: Context) -> str:
    """A fresh tenant of this test's own; its slug."""
    return await make_tenant(ctx)


async def make_key(
    ctx: Context,
    tenant_slug: str,
    permissions: list[str],
    *,
    client_id: str | None = None,
    scopes: list[str] | None = None,
    expiration: Any = None,
) -> str:
    """A client in ``tenant_slug`` holding ``permissions``, and an API key of it; the key's value."""
    client_id = client_id or f"key-holder-{uuid.uuid4().hex[:8]}"
    spec = ClientSpec(client_id=client_id, allowed_scopes=permissions)
    await client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant_slug, spec)
    created = await create_api_key(
        ctx,
        SYSTEM_PRINCIPAL,
        tenant_slug,
        client_id,
        ApiKeyRequest(
            name="test", scopes=scopes if scopes is not None else permissions, expiration=expiration
        ),
    )
    return created.value


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """An RFC 9457 problem of ``kind`` with ``status``, its request id, and no internals."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:pforte:problem:{kind}"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["requestId"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


def moment(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None, text
    return parsed


async def audit_events(ctx: Context, name: str, target_id: str) -> list[AuditEventRow]:
    async with ctx.db.transaction() as session:
        stmt = select(AuditEventRow).where(AuditEventRow.name == name, AuditEventRow.target_id == target_id)
        return list((await session.scalars(stmt)).all())


async def snapshot(ctx: Context) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: compare before and after an error path."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    async with ctx.db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table).order_by(*table.primary_key.columns))).all()
            result[table.name] = [tuple(r) for r in rows]
    return result


async def scalar(ctx: Context, sql: str, **params: Any) -> Any:
    async with ctx.db.transaction() as session:
        return (await session.execute(text(sql), params)).scalar()


async def clear_of_window_edge(window: int, need: float = 2.0) -> None:
    """Wait, if needed, until at least ``need`` seconds are left before the next multiple of
    ``window`` seconds of wall-clock time. The failure throttle counts with ``limits``' sliding
    window counter, whose windows start at those multiples: a series of failures that crosses
    one sees the earlier window's count weighted by a factor just below 1 and floored, one
    failure fewer than were made (a test of exact counts fails once in a few hundred runs)."""
    left = window - time.time() % window
    if left < need:
        await asyncio.sleep(left + 0.05)
