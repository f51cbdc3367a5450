"""Several ``pforte serve`` processes on one database: a change made through one is in force on
the other within one second (DESIGN.md §6) — PostgreSQL through LISTEN/NOTIFY, SQLite (one
host) through the polled change feed.

Server A warms its caches by issuing tokens; every change goes through server B's admin API;
then A is asked until it answers differently, and the time from B's answer to A's first
changed answer must stay within a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import throwaway_postgres
from tests.e2e.conftest import BOOTSTRAP_CLIENT_ID, BOOTSTRAP_CLIENT_SECRET, Servers, start_pair

pytestmark = pytest.mark.e2e

API = "/api/admin/v1"
TENANT = "cluster"
WITHIN = 1.0  # seconds: the contract of DESIGN.md §6


@dataclass
class Cluster:
    a: httpx.Client
    b: httpx.Client
    admin: dict[str, str]  # Authorization header for B's admin API


def token_request(http: httpx.Client, client_id: str, secret: str) -> httpx.Response:
    return http.post(
        f"/t/{TENANT}/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )


def introspect(http: httpx.Client, caller: tuple[str, str], token: str) -> dict[str, object]:
    response = http.post(f"/t/{TENANT}/introspect", data={"token": token}, auth=caller)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def seconds_until(check: Callable[[], bool], limit: float = 5.0) -> float:
    """How long until ``check()`` holds (asked every 20 ms); fails after ``limit`` seconds."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > limit:
            pytest.fail(f"the other server did not follow within {limit}s")
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture(params=["sqlite", "postgresql"])
def cluster(request: pytest.FixtureRequest, servers: Servers, tmp_path: Path) -> Iterator[Cluster]:
    if request.param == "sqlite":
        url_context = None
        url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    else:
        url_context = throwaway_postgres()
        url = url_context.__enter__()
    try:
        started = start_pair(servers, url, PFORTE_ACCESS_LOG="false")
        a, b = (httpx.Client(base_url=s.url, timeout=10) for s in started)
        with a, b:
            issued = b.post(
                "/t/system/token",
                data={"grant_type": "client_credentials"},
                auth=(BOOTSTRAP_CLIENT_ID, BOOTSTRAP_CLIENT_SECRET),
            )
            assert issued.status_code == 200, issued.text
            admin = {"Authorization": f"Bearer {issued.json()['access_token']}"}
            created = b.post(f"{API}/tenants", json={"slug": TENANT, "displayName": "Cluster"}, headers=admin)
            assert created.status_code == 201, created.text
            yield Cluster(a, b, admin)
    finally:
        servers.stop_all()
        if url_context is not None:
            url_context.__exit__(None, None, None)


def make_client(cluster: Cluster, client_id: str) -> str:
    body = {"clientId": client_id, "allowedGrantTypes": ["client_credentials"], "allowedScopes": ["reports"]}
    response = cluster.b.post(f"{API}/tenants/{TENANT}/clients", json=body, headers=cluster.admin)
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]["value"]
    return secret


def test_disabling_a_client_on_one_server_is_refused_by_the_other_within_a_second(cluster: Cluster) -> None:
    secret = make_client(cluster, "svc")
    assert token_request(cluster.a, "svc", secret).status_code == 200  # A has it cached now

    patched = cluster.b.patch(
        f"{API}/tenants/{TENANT}/clients/svc", json={"enabled": False}, headers=cluster.admin
    )
    assert patched.status_code == 200, patched.text
    assert seconds_until(lambda: token_request(cluster.a, "svc", secret).status_code == 401) <= WITHIN
    refused = token_request(cluster.a, "svc", secret)
    assert refused.json()["error"] == "invalid_client"

    patched = cluster.b.patch(
        f"{API}/tenants/{TENANT}/clients/svc", json={"enabled": True}, headers=cluster.admin
    )
    assert patched.status_code == 200, patched.text
    assert seconds_until(lambda: token_request(cluster.a, "svc", secret).status_code == 200) <= WITHIN


def test_a_revoked_secret_is_refused_by_the_other_server_within_a_second(cluster: Cluster) -> None:
    first = make_client(cluster, "rotating")
    made = cluster.b.post(f"{API}/tenants/{TENANT}/clients/rotating/secrets", json={}, headers=cluster.admin)
    assert made.status_code == 201, made.text
    second, second_id = made.json()["value"], made.json()["id"]
    assert token_request(cluster.a, "rotating", second).status_code == 200

    deleted = cluster.b.delete(
        f"{API}/tenants/{TENANT}/clients/rotating/secrets/{second_id}", headers=cluster.admin
    )
    assert deleted.status_code == 204, deleted.text
    assert seconds_until(lambda: token_request(cluster.a, "rotating", second).status_code == 401) <= WITHIN
    assert token_request(cluster.a, "rotating", first).status_code == 200  # the other secret still works


def test_a_token_revoked_on_one_server_is_inactive_on_the_other_within_a_second(cluster: Cluster) -> None:
    secret = make_client(cluster, "holder")
    caller = ("holder", secret)
    token = token_request(cluster.a, *caller).json()["access_token"]
    assert introspect(cluster.b, caller, token)["active"] is True  # B has verified and cached it

    revoked = cluster.a.post(f"/t/{TENANT}/revoke", data={"token": token}, auth=caller)
    assert revoked.status_code == 200, revoked.text
    assert seconds_until(lambda: introspect(cluster.b, caller, token) == {"active": False}) <= WITHIN


def test_a_deleted_client_loses_its_tokens_on_the_other_server_within_a_second(cluster: Cluster) -> None:
    secret = make_client(cluster, "doomed")
    token = token_request(cluster.a, "doomed", secret).json()["access_token"]
    observer = ("observer", make_client(cluster, "observer"))
    assert introspect(cluster.a, observer, token)["active"] is True

    deleted = cluster.b.delete(f"{API}/tenants/{TENANT}/clients/doomed", headers=cluster.admin)
    assert deleted.status_code == 204, deleted.text
    assert seconds_until(lambda: introspect(cluster.a, observer, token) == {"active": False}) <= WITHIN
