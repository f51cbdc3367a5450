"""A database busy beyond its wait (SQLite's ``busy_timeout``) is "try again", never a 500:
503 problem+json with ``Retry-After`` on the admin API, 503 ``temporarily_unavailable`` at the
token endpoints — and nothing changes."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from pforte.app import create_app
from pforte.services.bootstrap import BootstrapCredentials, initialise
from pforte.services.context import Context
from pforte.settings import Settings
from tests.conftest import PUBLIC_URL, SECRET_KEY, assert_problem, bearer

pytestmark = pytest.mark.anyio


@contextmanager
def write_locked(path: Path) -> Iterator[None]:
    """Another process's writer holding SQLite's lock (until the block ends)."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
async def busy(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, BootstrapCredentials, Path]]:
    path = tmp_path / "pforte.db"
    ctx = Context.create(
        Settings(database_url=f"sqlite+aiosqlite:///{path}", secret_key=SECRET_KEY, public_url=PUBLIC_URL)
    )
    creds = await initialise(ctx)
    assert creds is not None
    transport = httpx.ASGITransport(app=create_app(ctx.settings, ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as http:
        yield http, creds, path
    await ctx.db.dispose()


async def test_a_write_that_waits_too_long_is_503_and_changes_nothing(
    busy: tuple[httpx.AsyncClient, BootstrapCredentials, Path],
) -> None:
    http, creds, path = busy
    url = "/api/admin/v1/tenants/system/clients/pforte-admin"
    before = (await http.get(url, headers=bearer(creds.api_key))).json()
    with write_locked(path):
        response = await http.patch(url, json={"description": "waited"}, headers=bearer(creds.api_key))
    problem = assert_problem(response, 503, "unavailable")
    assert response.headers["retry-after"] == "1"
    assert problem["detail"] == "the database is busy with concurrent changes; repeat the request"
    after = (await http.get(url, headers=bearer(creds.api_key))).json()
    assert after == before
    again = await http.patch(url, json={"description": "waited"}, headers=bearer(creds.api_key))
    assert again.status_code == 200


async def test_a_revocation_that_waits_too_long_is_503_temporarily_unavailable(
    busy: tuple[httpx.AsyncClient, BootstrapCredentials, Path],
) -> None:
    http, creds, path = busy
    caller = (creds.client_id, creds.client_secret)
    issued = await http.post("/t/system/token", data={"grant_type": "client_credentials"}, auth=caller)
    token = issued.json()["access_token"]
    with write_locked(path):
        response = await http.post("/t/system/revoke", data={"token": token}, auth=caller)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == "temporarily_unavailable"
    active = await http.post("/t/system/introspect", data={"token": token}, auth=caller)
    assert active.json()["active"] is True  # nothing was revoked
    again = await http.post("/t/system/revoke", data={"token": token}, auth=caller)
    assert again.status_code == 200
