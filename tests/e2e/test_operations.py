"""Operators' endpoints on a real ``pforte serve``: ``/health/ready`` on SQLite and PostgreSQL
when the schema falls behind or the database goes."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import _pg_execute, throwaway_postgres
from tests.e2e.conftest import BOOTSTRAP_CLIENT_ID, BOOTSTRAP_CLIENT_SECRET, Servers, base_env

pytestmark = pytest.mark.e2e

METRICS_TOKEN = "e2e-metrics-token-9f8e7d6c5b4a"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}
TOKEN_ROUTE = 'pforte_http_requests_total{method="POST",route="/t/{slug}/token",status="200"}'
ISSUED = 'pforte_tokens_issued_total{grant_type="client_credentials"}'


def env_for(workdir: Path, **settings: str) -> dict[str, str]:
    return base_env(
        workdir,
        PFORTE_BOOTSTRAP_CLIENT_ID=BOOTSTRAP_CLIENT_ID,
        PFORTE_BOOTSTRAP_CLIENT_SECRET=BOOTSTRAP_CLIENT_SECRET,
        **settings,
    )


def test_ready_until_the_schema_falls_behind(servers: Servers) -> None:
    workdir = servers.workdir()
    server = servers.start(workdir, env_for(workdir))
    ready = httpx.get(f"{server.url}/health/ready")
    assert (ready.status_code, ready.json()["status"]) == (200, "ok")
    assert ready.headers["cache-control"] == "no-store"
    with sqlite3.connect(server.db_path) as db:
        db.execute("UPDATE alembic_version SET version_num = '0005'")
    behind = httpx.get(f"{server.url}/health/ready")
    assert behind.status_code == 503
    assert behind.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "behind: db 0005, code 0007", "feed": "ok"},
    }
    assert httpx.get(f"{server.url}/health/live").status_code == 200


def test_ready_on_postgresql_until_the_database_goes(servers: Servers) -> None:
    with throwaway_postgres() as url:
        workdir = servers.workdir()
        server = servers.start(workdir, env_for(workdir, PFORTE_DATABASE_URL=url))
        ready = httpx.get(f"{server.url}/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {
            "status": "ok",
            "checks": {"database": "ok", "migrations": "ok", "feed": "ok"},
        }

        name = url.rpartition("/")[2]
        asyncio.run(_pg_execute(f'DROP DATABASE "{name}" WITH (FORCE)'))
        deadline = time.monotonic() + 15
        while True:
            gone = httpx.get(f"{server.url}/health/ready", timeout=10)
            checks = gone.json()["checks"]
            if checks["feed"] == "not listening" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert gone.status_code == 503
        assert gone.json() == {
            "status": "unavailable",
            "checks": {
                "database": "unreachable",
                "migrations": "unknown: the database is unreachable",
                "feed": "not listening",
            },
        }
        assert name not in gone.text
        assert httpx.get(f"{server.url}/health/live").status_code == 200
        server.stop()
