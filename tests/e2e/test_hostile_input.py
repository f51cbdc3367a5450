"""Hostile text against a real ``pforte serve``: no 500, no traceback in the server's output.

NUL (and other C0 controls) used to reach PostgreSQL, which refuses them in text: the request
failed with 500 and a traceback in the log, while SQLite stored the text. Each case below is
sent to a server on SQLite and on PostgreSQL; each answer is the documented 4xx, and the
server's stdout and stderr (captured to files, as an operator sees them) hold no traceback and
no logged crash.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import throwaway_postgres
from tests.e2e.conftest import BOOTSTRAP_CLIENT_ID, BOOTSTRAP_CLIENT_SECRET, Server, Servers, base_env

pytestmark = pytest.mark.e2e

API = "/api/admin/v1"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TENANT = "hostile"


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, servers: Servers, tmp_path: Path) -> Iterator[Server]:
    with ExitStack() as stack:
        workdir = servers.workdir()
        settings = {
            "PFORTE_BOOTSTRAP_CLIENT_ID": BOOTSTRAP_CLIENT_ID,
            "PFORTE_BOOTSTRAP_CLIENT_SECRET": BOOTSTRAP_CLIENT_SECRET,
        }
        if request.param == "postgresql":
            settings["PFORTE_DATABASE_URL"] = stack.enter_context(throwaway_postgres())
        running = servers.start(workdir, base_env(workdir, **settings))
        yield running
        servers.stop_all()  # before the database goes away


def basic(raw: bytes) -> dict[str, str]:
    return {**FORM, "Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_hostile_text_gets_a_4xx_and_leaves_no_traceback(server: Server) -> None:
    expected: list[tuple[str, int, httpx.Response]] = []

    with server.http() as http:
        token = http.post(
            "/t/system/token",
            data={"grant_type": "client_credentials"},
            auth=(BOOTSTRAP_CLIENT_ID, BOOTSTRAP_CLIENT_SECRET),
        )
        assert token.status_code == 200, token.text
        admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        created = http.post(f"{API}/tenants", json={"slug": TENANT}, headers=admin)
        assert created.status_code == 201, created.text
        app = http.post(f"{API}/tenants/{TENANT}/clients", json={"clientId": "app"}, headers=admin)
        assert app.status_code == 201, app.text

        def check(name: str, status: int, response: httpx.Response) -> None:
            expected.append((name, status, response))

        # The protocol forms: client_id and other parameters, and Basic credentials.
        for endpoint in ("token", "introspect", "revoke"):
            url = f"/t/{TENANT}/{endpoint}"
            grant = "grant_type=client_credentials" if endpoint == "token" else "token=abc"
            check(
                f"{endpoint} form client_id",
                400,
                http.post(url, content=f"{grant}&client_id=bc%00&client_secret=x", headers=FORM),
            )
            check(
                f"{endpoint} form raw NUL",
                400,
                http.post(url, content=f"{grant}&client_id=bc\x00&client_secret=x", headers=FORM),
            )
            check(
                f"{endpoint} form value",
                400,
                http.post(url, content=f"{grant}%00&client_id=app&client_secret=x", headers=FORM),
            )
            check(
                f"{endpoint} basic encoded NUL", 401, http.post(url, content=grant, headers=basic(b"bc%00:x"))
            )
            check(f"{endpoint} basic raw NUL", 401, http.post(url, content=grant, headers=basic(b"bc\x00:x")))
            check(
                f"{endpoint} basic secret NUL",
                401,
                http.post(url, content=grant, headers=basic(b"app:x\x00")),
            )
            check(
                f"{endpoint} slug",
                404,
                http.post(f"/t/bad%00/{endpoint}", content=grant, headers=basic(b"app:x")),
            )
        # The public documents.
        for path in (
            "/t/bad%00in/.well-known/openid-configuration",
            "/.well-known/oauth-authorization-server/t/bad%00in",
            "/t/bad%00in/jwks",
            "/t/system%00/jwks",
        ):
            check(path, 404, http.get(path))
        # Admin API path parameters.
        for method, path in (
            ("GET", "/tenants/bad%00in"),
            ("PATCH", "/tenants/bad%00in"),
            ("DELETE", "/tenants/bad%00in"),
            ("GET", "/tenants/bad%00in/clients"),
            ("GET", "/tenants/system/clients/bc%00"),
            ("PUT", "/tenants/system/clients/bc%00"),
            ("DELETE", "/tenants/system/clients/bc%00"),
            ("GET", "/tenants/system/clients/bc%00/secrets"),
            ("POST", "/tenants/system/clients/bc%00/secrets"),
            ("GET", "/tenants/system/clients/bc%00/api-keys"),
            ("POST", "/tenants/system/clients/bc%00/api-keys"),
            ("DELETE", f"/tenants/{TENANT}/clients/app/secrets/%00"),
            ("DELETE", f"/tenants/{TENANT}/clients/app/api-keys/%00"),
        ):
            body = {} if method in {"PUT", "POST", "PATCH"} else None
            check(f"{method} {path}", 404, http.request(method, API + path, json=body, headers=admin))
        # JSON members.
        clients = f"{API}/tenants/{TENANT}/clients"
        for member, value in (
            ("clientName", "bad\x00name"),
            ("description", "bad\x00description"),
            ("owner", "bad\x00owner"),
            ("redirectUris", ["https://app.example.com/\x00"]),
            ("allowedScopes", ["re\x00ports"]),
            ("restrictToRole", "staff\x00"),
            ("backChannelLogoutUri", "https://app.example.com/\x00"),
        ):
            check(
                f"client {member}",
                422,
                http.post(clients, json={"clientId": "c2", member: value}, headers=admin),
            )
            check(
                f"patch client {member}",
                422,
                http.patch(f"{clients}/app", json={member: value}, headers=admin),
            )
        check("client clientId", 422, http.post(clients, json={"clientId": "c\x00"}, headers=admin))
        check(
            "tenant displayName",
            422,
            http.post(f"{API}/tenants", json={"slug": "t2", "displayName": "x\x00"}, headers=admin),
        )
        check(
            "tenant patch displayName",
            422,
            http.patch(f"{API}/tenants/{TENANT}", json={"displayName": "x\x00"}, headers=admin),
        )
        check(
            "secret description",
            422,
            http.post(f"{clients}/app/secrets", json={"description": "x\x00"}, headers=admin),
        )
        check(
            "api key name",
            422,
            http.post(f"{clients}/app/api-keys", json={"name": "x\x00", "scopes": []}, headers=admin),
        )
        # Still serving, and nothing was stored by any of the above.
        assert http.get(f"{clients}/app", headers=admin).json()["clientName"] is None
        listed = http.get(clients, headers=admin).json()["items"]
        assert [c["clientId"] for c in listed if not c["clientId"].startswith("pforte-")] == ["app"]

    server.stop()  # flushes and closes the output files
    wrong = [
        (name, status, r.status_code, r.text[:200]) for name, status, r in expected if r.status_code != status
    ]
    assert wrong == []
    output = server.stdout() + server.stderr()
    assert "Traceback" not in output
    assert "unhandled error" not in output
    assert "protocol_endpoint_failed" not in output
    # No database error text either (PostgreSQL: 'invalid byte sequence for encoding "UTF8": 0x00').
    assert "0x00" not in output
    assert "invalid byte sequence" not in output
