"""Authentication and authorization of the admin API (DESIGN.md §3 "no principal grants what it
does not hold", §5): who may call, in which tenant, with which permission."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import update

from pforte.domain.credentials import Kind, new_value
from pforte.observability import configure_logging
from pforte.services.context import Context
from pforte.store.tables import ApiKeyRow
from tests.conftest import assert_problem, bearer, make_key, make_tenant, snapshot

pytestmark = pytest.mark.anyio
BASE = "/api/admin/v1/tenants"
CHALLENGE = 'Bearer realm="pforte"'
INVALID_TOKEN = 'Bearer realm="pforte", error="invalid_token"'


def assert_invalid_token(response: httpx.Response) -> None:
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == INVALID_TOKEN


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "requestId"}


async def expire(ctx: Context, key: str) -> None:
    async with ctx.db.transaction() as session:
        result = await session.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.value_hash == ctx.hasher.hash(key))
            .values(expiration=datetime.now(UTC) - timedelta(seconds=1))
            .returning(ApiKeyRow.id)
        )
        assert len(result.all()) == 1


async def key_list(http: httpx.AsyncClient, admin: dict[str, str], tenant: str, client_id: str) -> Any:
    response = await http.get(f"{BASE}/{tenant}/clients/{client_id}/api-keys", headers=admin)
    assert response.status_code == 200
    return response.json()["items"]


# --- no or bad credentials -----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}],
    ids=["none", "basic", "empty-bearer"],
)
async def test_no_bearer_credential_is_401_without_error_code(
    client: httpx.AsyncClient, ctx: Context, tenant: str, headers: dict[str, str]
) -> None:
    before = await snapshot(ctx)
    response = await client.get(f"{BASE}/{tenant}/clients", headers=headers)
    body = assert_problem(response, 401, "unauthorized")
    assert body["title"] == "Authentication required"
    assert response.headers["www-authenticate"] == CHALLENGE
    assert await snapshot(ctx) == before


@pytest.mark.parametrize(
    "path", ["/tenants", "/tenants/system", "/tenants/system/clients", "/tenants/system/clients/x/api-keys"]
)
async def test_every_admin_route_needs_a_credential(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"/api/admin/v1{path}")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == CHALLENGE


BAD_VALUES: list[tuple[str, Callable[[], str]]] = [
    ("garbage", lambda: "garbage"),
    ("jwt-shaped", lambda: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
    ("bad-checksum", lambda: new_value(Kind.API_KEY)[:-6] + "000000"),
    ("unknown-key", lambda: new_value(Kind.API_KEY)),
    ("client-secret-shaped", lambda: new_value(Kind.CLIENT_SECRET)),
    ("refresh-token-shaped", lambda: new_value(Kind.REFRESH_TOKEN)),
    ("key-with-trailing-junk", lambda: new_value(Kind.API_KEY) + "x"),
]


@pytest.mark.parametrize("make", [case[1] for case in BAD_VALUES], ids=[case[0] for case in BAD_VALUES])
async def test_unknown_or_malformed_credential_is_invalid_token(
    client: httpx.AsyncClient, ctx: Context, tenant: str, make: Callable[[], str]
) -> None:
    before = await snapshot(ctx)
    response = await client.get(f"{BASE}/{tenant}/clients", headers=bearer(make()))
    assert_invalid_token(response)
    assert await snapshot(ctx) == before


async def test_a_real_client_secret_is_not_an_api_key(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    created = await client.post(
        f"{BASE}/{tenant}/clients", json={"clientId": "app", "allowedScopes": ["clients:read"]}, headers=admin
    )
    assert created.status_code == 201
    secret = created.json()["secret"]["value"]
    assert secret.startswith("pfs_")
    before = await snapshot(ctx)
    response = await client.get(f"{BASE}/{tenant}/clients", headers=bearer(secret))
    assert_invalid_token(response)
    assert await snapshot(ctx) == before


async def test_bearer_scheme_is_case_insensitive(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read"])
    response = await client.get(f"{BASE}/{tenant}/clients", headers={"Authorization": f"bearer {key}"})
    assert response.status_code == 200


async def test_revoked_key_is_invalid_token(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read"], client_id="holder")
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 200
    (listed,) = await key_list(client, admin, tenant, "holder")
    revoked = await client.delete(f"{BASE}/{tenant}/clients/holder/api-keys/{listed['id']}", headers=admin)
    assert revoked.status_code == 204
    before = await snapshot(ctx)
    assert_invalid_token(await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key)))
    assert await snapshot(ctx) == before


async def test_expired_key_is_invalid_token(client: httpx.AsyncClient, ctx: Context, tenant: str) -> None:
    key = await make_key(ctx, tenant, ["clients:read"], expiration=datetime.now(UTC) + timedelta(days=1))
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 200
    await expire(ctx, key)
    before = await snapshot(ctx)
    assert_invalid_token(await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key)))
    assert await snapshot(ctx) == before


async def test_key_of_a_disabled_client_is_invalid_token_at_once(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read"], client_id="holder")
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 200
    disabled = await client.patch(f"{BASE}/{tenant}/clients/holder", json={"enabled": False}, headers=admin)
    assert disabled.status_code == 200
    assert disabled.json()["enabled"] is False
    assert_invalid_token(await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key)))


async def test_key_of_a_deleted_client_is_invalid_token_at_once(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read"], client_id="holder")
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 200
    deleted = await client.delete(f"{BASE}/{tenant}/clients/holder", headers=admin)
    assert deleted.status_code == 204
    assert_invalid_token(await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key)))


async def test_key_of_a_deleted_tenant_is_invalid_token(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context
) -> None:
    doomed = await make_tenant(ctx)
    key = await make_key(ctx, doomed, ["clients:read"])
    assert (await client.get(f"{BASE}/{doomed}/clients", headers=bearer(key))).status_code == 200
    assert (await client.delete(f"{BASE}/{doomed}", headers=admin)).status_code == 204
    assert_invalid_token(await client.get(f"{BASE}/{doomed}/clients", headers=bearer(key)))


# --- permissions ---------------------------------------------------------------------------


async def test_read_key_reads_but_cannot_write(client: httpx.AsyncClient, ctx: Context, tenant: str) -> None:
    key = await make_key(ctx, tenant, ["clients:read"])
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 200
    before = await snapshot(ctx)
    response = await client.post(f"{BASE}/{tenant}/clients", json={"clientId": "new"}, headers=bearer(key))
    body = assert_problem(response, 403, "forbidden")
    assert "clients:write" in body["detail"]
    # RFC 6750 §3.1: the credential is fine, its reach is not.
    assert response.headers["www-authenticate"] == (
        'Bearer realm="pforte", error="insufficient_scope", scope="clients:write"'
    )
    assert await snapshot(ctx) == before


@pytest.mark.parametrize("permissions", [["users:read"], ["clients:write"], ["events:read", "roles:write"]])
async def test_key_without_clients_read_cannot_list_clients(
    client: httpx.AsyncClient, ctx: Context, tenant: str, permissions: list[str]
) -> None:
    key = await make_key(ctx, tenant, permissions)
    response = await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))
    body = assert_problem(response, 403, "forbidden")
    assert "clients:read" in body["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("POST", ""), ("GET", "/{tenant}"), ("PATCH", "/{tenant}"), ("DELETE", "/{tenant}")],
)
async def test_tenant_key_cannot_use_the_tenant_api(
    client: httpx.AsyncClient, ctx: Context, tenant: str, method: str, path: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read", "clients:write", "users:write"])
    before = await snapshot(ctx)
    body = {"slug": f"t-{uuid.uuid4().hex[:10]}"} if method == "POST" else {"displayName": "x"}
    response = await client.request(
        method,
        BASE + path.format(tenant=tenant),
        json=body if method in {"POST", "PATCH"} else None,
        headers=bearer(key),
    )
    assert_problem(response, 403, "forbidden")
    assert await snapshot(ctx) == before


async def test_system_key_without_tenants_admin_stays_in_system(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, "system", ["clients:read"])
    assert (await client.get(f"{BASE}/system/clients", headers=bearer(key))).status_code == 200
    assert_problem(await client.get(BASE, headers=bearer(key)), 403, "forbidden")
    assert_problem(await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key)), 403, "forbidden")


async def test_system_key_scoped_below_tenants_admin_is_no_operator(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, "system", ["tenants:admin", "clients:read"], scopes=["clients:read"])
    assert (await client.get(f"{BASE}/system/clients", headers=bearer(key))).status_code == 200
    assert_problem(await client.get(BASE, headers=bearer(key)), 403, "forbidden")
    assert_problem(await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key)), 403, "forbidden")


# --- tenants -------------------------------------------------------------------------------


async def test_key_reaches_only_its_own_tenant_and_learns_nothing_of_others(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    other = await make_tenant(ctx)
    key = await make_key(ctx, tenant, ["clients:read", "clients:write"])
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 200

    before = await snapshot(ctx)
    foreign = await client.get(f"{BASE}/{other}/clients", headers=bearer(key))
    missing = await client.get(f"{BASE}/no-such-{uuid.uuid4().hex[:8]}/clients", headers=bearer(key))
    missing_id = await client.get(f"{BASE}/{uuid.uuid4()}/clients", headers=bearer(key))
    system = await client.get(f"{BASE}/system/clients", headers=bearer(key))
    write = await client.post(f"{BASE}/{other}/clients", json={"clientId": "intruder"}, headers=bearer(key))
    write_missing = await client.post(
        f"{BASE}/no-such-{uuid.uuid4().hex[:8]}/clients", json={"clientId": "intruder"}, headers=bearer(key)
    )
    bodies = [
        without_request_id(assert_problem(r, 403, "forbidden"))
        for r in (foreign, missing, missing_id, system, write, write_missing)
    ]
    assert all(b == bodies[0] for b in bodies)
    assert other not in json.dumps(bodies)
    assert await snapshot(ctx) == before


async def test_tenant_can_be_addressed_by_its_id(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    other = await make_tenant(ctx)
    own_id = (await client.get(f"{BASE}/{tenant}", headers=admin)).json()["id"]
    other_id = (await client.get(f"{BASE}/{other}", headers=admin)).json()["id"]
    key = await make_key(ctx, tenant, ["clients:read"], client_id="holder")

    by_slug = await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))
    by_id = await client.get(f"{BASE}/{own_id}/clients", headers=bearer(key))
    assert by_slug.status_code == by_id.status_code == 200
    assert by_id.json() == by_slug.json()
    assert "holder" in [c["clientId"] for c in by_id.json()["items"]]
    assert_problem(await client.get(f"{BASE}/{other_id}/clients", headers=bearer(key)), 403, "forbidden")


async def test_operator_reaches_every_tenant(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    other = await make_tenant(ctx)
    other_id = (await client.get(f"{BASE}/{other}", headers=admin)).json()["id"]
    for ref in (tenant, other, other_id, "system"):
        assert (await client.get(f"{BASE}/{ref}/clients", headers=admin)).status_code == 200
    created = await client.post(f"{BASE}/{other}/clients", json={"clientId": "by-operator"}, headers=admin)
    assert created.status_code == 201
    # The operator may learn that a tenant does not exist.
    assert_problem(
        await client.get(f"{BASE}/no-such-{uuid.uuid4().hex[:8]}/clients", headers=admin), 404, "not-found"
    )


# --- narrowing -----------------------------------------------------------------------------


async def test_key_scopes_narrow_the_clients_permissions(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read", "clients:write"], scopes=["clients:read"])
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 200
    before = await snapshot(ctx)
    response = await client.post(f"{BASE}/{tenant}/clients", json={"clientId": "new"}, headers=bearer(key))
    assert_problem(response, 403, "forbidden")
    assert await snapshot(ctx) == before


async def test_permissions_are_checked_on_every_request(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read", "clients:write"], client_id="holder")
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 200
    patched = await client.patch(
        f"{BASE}/{tenant}/clients/holder", json={"allowedScopes": ["clients:write"]}, headers=admin
    )
    assert patched.status_code == 200
    assert patched.json()["allowedScopes"] == ["clients:write"]
    response = await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))
    assert_problem(response, 403, "forbidden")
    # The key still holds clients:write through its client.
    created = await client.post(
        f"{BASE}/{tenant}/clients", json={"clientId": "still-writes"}, headers=bearer(key)
    )
    assert created.status_code == 201


async def test_no_principal_grants_what_it_does_not_hold(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read", "clients:write"])
    strong = await client.post(
        f"{BASE}/{tenant}/clients",
        json={"clientId": "strong", "allowedScopes": ["users:write"]},
        headers=admin,
    )
    assert strong.status_code == 201
    base = f"{BASE}/{tenant}/clients/strong"

    before = await snapshot(ctx)
    refused = [
        await client.post(f"{base}/secrets", json={}, headers=bearer(key)),
        await client.post(
            f"{base}/api-keys", json={"name": "k", "scopes": ["users:write"]}, headers=bearer(key)
        ),
        await client.delete(f"{base}/secrets/{strong.json()['secret']['id']}", headers=bearer(key)),
        await client.delete(base, headers=bearer(key)),
        await client.post(
            f"{BASE}/{tenant}/clients",
            json={"clientId": "escalate", "allowedScopes": ["users:write"]},
            headers=bearer(key),
        ),
    ]
    for response in refused:
        body = assert_problem(response, 403, "forbidden")
        assert "users:write" in body["detail"]
    # A change is judged by what it adds: users:read would be new, users:write is held already.
    adding = await client.patch(
        base, json={"allowedScopes": ["users:write", "users:read"]}, headers=bearer(key)
    )
    body = assert_problem(adding, 403, "forbidden")
    assert body["detail"] == "cannot grant permissions the caller lacks: users:read"
    assert await snapshot(ctx) == before

    # Editing what the client has (nothing granted) is a write the key may make.
    edited = await client.patch(base, json={"description": "edited"}, headers=bearer(key))
    assert edited.status_code == 200, edited.text
    assert edited.json()["allowedScopes"] == ["users:write"]
    narrowed = await client.patch(base, json={"allowedScopes": []}, headers=bearer(key))
    assert narrowed.status_code == 200, narrowed.text

    # Reading the strong client's credential metadata is a read.
    listed = await client.get(f"{base}/secrets", headers=bearer(key))
    assert listed.status_code == 200


async def test_api_key_cannot_carry_a_scope_the_caller_lacks(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read", "clients:write"])
    both = await client.post(
        f"{BASE}/{tenant}/clients",
        json={"clientId": "both", "allowedScopes": ["clients:read", "events:read"]},
        headers=admin,
    )
    assert both.status_code == 201
    before = await snapshot(ctx)
    response = await client.post(
        f"{BASE}/{tenant}/clients/both/api-keys",
        json={"name": "k", "scopes": ["events:read"]},
        headers=bearer(key),
    )
    body = assert_problem(response, 403, "forbidden")
    assert "events:read" in body["detail"]
    assert await snapshot(ctx) == before


async def test_caller_may_issue_credentials_within_what_it_holds(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read", "clients:write"])
    weak = await client.post(
        f"{BASE}/{tenant}/clients",
        json={"clientId": "weak", "allowedScopes": ["clients:read"]},
        headers=bearer(key),
    )
    assert weak.status_code == 201
    base = f"{BASE}/{tenant}/clients/weak"
    assert (await client.post(f"{base}/secrets", json={}, headers=bearer(key))).status_code == 201
    issued = await client.post(
        f"{base}/api-keys", json={"name": "k", "scopes": ["clients:read"]}, headers=bearer(key)
    )
    assert issued.status_code == 201
    assert (
        await client.get(f"{BASE}/{tenant}/clients", headers=bearer(issued.json()["value"]))
    ).status_code == 200


# --- lastUsedAt ----------------------------------------------------------------------------


async def test_last_used_at_is_set_by_a_successful_use_only(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["clients:read"], client_id="holder")
    (listed,) = await key_list(client, admin, tenant, "holder")
    assert listed["valueDisplay"] == key[:7] + "…"
    assert listed["lastUsedAt"] is None

    refused = await client.post(f"{BASE}/{tenant}/clients", json={"clientId": "x"}, headers=bearer(key))
    assert refused.status_code == 403
    (listed,) = await key_list(client, admin, tenant, "holder")
    assert listed["lastUsedAt"] is None

    before = datetime.now(UTC)
    assert (await client.get(f"{BASE}/{tenant}/clients", headers=bearer(key))).status_code == 200
    after = datetime.now(UTC)
    (listed,) = await key_list(client, admin, tenant, "holder")
    assert listed["lastUsedAt"] is not None
    assert before <= datetime.fromisoformat(listed["lastUsedAt"]) <= after


# --- logs ----------------------------------------------------------------------------------


@pytest.fixture
def production_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The production structlog set-up (configure_logging: JSON lines, redaction), printing to a
    buffer instead of stdout; restored afterwards. configure_logging also re-wires the stdlib
    root logger, which would drop pytest's capture handlers: that part is left out."""
    stream = io.StringIO()
    was_configured, saved = structlog.is_configured(), structlog.get_config()
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)
    access = logging.getLogger("uvicorn.access")
    monkeypatch.setattr(access, "disabled", access.disabled)
    alembic = logging.getLogger("alembic")
    monkeypatch.setattr(alembic, "level", alembic.level)
    configure_logging("debug", stream=stream)  # unbuffered: each line is in the stream at once
    structlog.configure(cache_logger_on_first_use=False)
    try:
        yield stream
    finally:
        configure_logging("info")  # the sink back on stdout
        if was_configured:
            structlog.configure(**saved)
        else:
            structlog.reset_defaults()


def request_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line.get("event") == "request"]


def server_records(caplog: pytest.LogCaptureFixture) -> str:
    """The stdlib records of the server side; httpx logs the test's own URLs, not the server's."""
    records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    return "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records)


def assert_absent(texts: list[str], *values: str) -> None:
    for text in texts:
        for value in values:
            assert value not in text
            assert value[4:] not in text  # nor its random part, masked or not


async def test_api_key_in_the_authorization_header_never_reaches_a_log_line(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    operator_key: str,
    production_logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every log at its most verbose, SQL statements with their parameters included."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    key = await make_key(ctx, tenant, ["clients:read"], client_id="holder")
    (listed,) = await key_list(client, admin, tenant, "holder")
    clients = f"{BASE}/{tenant}/clients"
    statuses = [
        (await client.get(clients, headers=bearer(key))).status_code,
        (await client.post(clients, json={"clientId": "x"}, headers=bearer(key))).status_code,
        (await client.get(f"{clients}/no-such-client", headers=bearer(key))).status_code,
        (await client.delete(f"{clients}/holder/api-keys/{listed['id']}", headers=admin)).status_code,
        (await client.get(clients, headers=bearer(key))).status_code,
    ]
    assert statuses == [200, 403, 404, 204, 401]
    assert [line["status"] for line in request_lines(production_logs)][-5:] == statuses
    stdlib = server_records(caplog)
    assert "sqlalchemy.engine" in stdlib, "no SQL was captured; the check would be vacuous"
    captured = capsys.readouterr()
    assert_absent([production_logs.getvalue(), captured.out, captured.err, stdlib], key, operator_key)


async def test_api_key_pasted_into_a_url_or_request_id_is_masked_in_the_request_log(
    client: httpx.AsyncClient,
    ctx: Context,
    tenant: str,
    production_logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A caller who puts its key where it does not belong (a path segment, a query parameter,
    X-Request-ID) still finds no key in the request log (info level: SQL echo is off)."""
    caplog.set_level(logging.INFO)
    key = await make_key(ctx, tenant, ["clients:read"])
    clients = f"{BASE}/{tenant}/clients"
    statuses = [
        (await client.get(f"{clients}/{key}", headers=bearer(key))).status_code,
        (await client.get(clients, params={"cursor": key}, headers=bearer(key))).status_code,
        (await client.get(clients, headers={**bearer(key), "X-Request-ID": key})).status_code,
        (await client.get(f"{BASE}/{key}/clients")).status_code,
    ]
    assert statuses == [404, 422, 200, 401]
    lines = request_lines(production_logs)
    assert [line["status"] for line in lines][-4:] == statuses
    assert lines[-4]["path"] == f"{clients}/pfk_[redacted]"
    # A credential-shaped X-Request-ID is not echoed anywhere: a fresh id replaces it.
    assert "pfk_" not in lines[-2]["request_id"]
    assert len(lines[-2]["request_id"]) == 32
    captured = capsys.readouterr()
    assert_absent([production_logs.getvalue(), captured.out, captured.err, server_records(caplog)], key)
