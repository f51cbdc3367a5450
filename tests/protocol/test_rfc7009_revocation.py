"""RFC 7009 token revocation at ``/t/{slug}/revoke``.

A client revokes its own access tokens (their ``jti`` goes on the deny-list, table
``revoked_tokens``) and API keys (deleted, with an audit event). Anything it cannot revoke —
unknown, malformed, expired, another tenant's — is 200 with nothing changed (§2.2); another
client's token is refused (§2.1). The request-level checks (client authentication, body,
content type, unknown tenant, methods) are in ``test_rfc7662_introspection.py``, for both
endpoints.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from pforte.app import create_app
from pforte.domain.clock import utcnow
from pforte.services.context import Context
from pforte.settings import Settings
from pforte.store.repos.changes import RevokedTokenRepo
from pforte.store.tables import ChangeRow, RevokedTokenRow
from tests.conftest import assert_problem, audit_events, bearer, snapshot
from tests.protocol.oauth import (
    ADMIN,
    INACTIVE,
    App,
    Scene,
    api_key_of_another_tenant,
    assert_oauth_error,
    compact,
    decode_segment,
    expired_token,
    introspected,
    is_active,
    new_api_key,
    token_of_another_tenant,
    unchanged,
    unknown_api_key,
)

pytestmark = pytest.mark.anyio
Rows = dict[str, list[tuple[Any, ...]]]
HINTS: list[dict[str, str]] = [{}, {"token_type_hint": "refresh_token"}, {"token_type_hint": "nonsense"}]


def assert_revoked_reply(response: httpx.Response) -> None:
    """200 with an empty body (§2.2), never cached."""
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


async def revoke_ok(app: App, token: str, **form: str) -> None:
    assert_revoked_reply(await app.revoke(token, **form))


def changed_tables(
    before: Rows, after: Rows
) -> dict[str, tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Per table that differs: the rows gone and the rows added."""
    return {
        name: ([r for r in before[name] if r not in rows], [r for r in rows if r not in before[name]])
        for name, rows in after.items()
        if rows != before[name]
    }


async def rows_of(ctx: Context, table: Any, *where: Any) -> list[Any]:
    async with ctx.db.transaction() as session:
        return list((await session.scalars(select(table).where(*where))).all())


async def deny_list_rows(ctx: Context, token: str) -> list[RevokedTokenRow]:
    """The deny-list rows of the token's ``jti``."""
    return await rows_of(ctx, RevokedTokenRow, RevokedTokenRow.jti == decode_segment(token, 1)["jti"])


async def admin_status(app: App, credential: str) -> int:
    """What the admin API makes of ``credential`` (a token or key with clients:read)."""
    response = await app.http.get(f"{ADMIN}/{app.tenant}/clients", headers=bearer(credential))
    if response.status_code == 401:
        assert_problem(response, 401, "unauthorized")
    return response.status_code


# --- access tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["basic", "post"])
@pytest.mark.parametrize("hint", HINTS, ids=["no-hint", "wrong-hint", "unknown-hint"])
async def test_revoking_its_own_access_token_puts_its_jti_on_the_deny_list(
    scene: Scene, auth: str, hint: dict[str, str]
) -> None:
    token = await scene.svc.access_token()
    claims = decode_segment(token, 1)
    assert await admin_status(scene.svc, token) == 200
    before, start = await snapshot(scene.ctx), utcnow()

    assert_revoked_reply(await scene.svc.revoke(token, auth=auth, **hint))

    after = await snapshot(scene.ctx)
    assert set(changed_tables(before, after)) == {"revoked_tokens", "change_log"}
    (row,) = await deny_list_rows(scene.ctx, token)
    assert (row.jti, row.client_id, row.expires_at) == (
        claims["jti"],
        "svc",
        datetime.fromtimestamp(claims["exp"], UTC),
    )
    assert start <= row.revoked_at <= utcnow()
    (change,) = await rows_of(scene.ctx, ChangeRow, ChangeRow.subject == f"{claims['jti']} {claims['exp']}")
    assert (change.kind, change.tenant_id) == ("revoked", row.tenant_id)
    assert await introspected(scene.rs, token) == INACTIVE
    assert await admin_status(scene.svc, token) == 401


async def test_revoking_twice_is_fine_and_writes_one_row(scene: Scene) -> None:
    token = await scene.svc.access_token()
    await revoke_ok(scene.svc, token)
    async with unchanged(scene.ctx):
        await revoke_ok(scene.svc, token)
    assert len(await deny_list_rows(scene.ctx, token)) == 1


async def test_revoking_one_token_leaves_the_others_live(scene: Scene) -> None:
    first, second = await scene.svc.access_token(), await scene.svc.access_token()
    await revoke_ok(scene.svc, first)
    assert await is_active(scene.rs, second)
    assert await admin_status(scene.svc, second) == 200


async def test_concurrent_revocations_of_one_token_both_succeed(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await scene.svc.access_token()
    add = RevokedTokenRepo.add

    async def add_slowly(repo: RevokedTokenRepo, row: RevokedTokenRow) -> bool:
        """The two requests each look for the row before either has committed its insert."""
        added = await add(repo, row)
        await anyio.sleep(0.2)
        return added

    monkeypatch.setattr(RevokedTokenRepo, "add", add_slowly)
    replies: list[httpx.Response] = []

    async def revoke() -> None:
        replies.append(await scene.svc.revoke(token))

    with capture_logs():  # a server error's log line is slow to render
        async with anyio.create_task_group() as group:
            group.start_soon(revoke)
            group.start_soon(revoke)
    for response in replies:
        assert_revoked_reply(response)
    assert len(await deny_list_rows(scene.ctx, token)) == 1


async def test_another_clients_token_is_refused_and_stays_live(scene: Scene) -> None:
    token = await scene.svc.access_token()
    async with unchanged(scene.ctx):
        description = assert_oauth_error(await scene.rs.revoke(token), 400, "unauthorized_client")
        assert description == "the token was not issued to this client"
    assert await is_active(scene.rs, token)
    assert await admin_status(scene.svc, token) == 200


# --- API keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["basic", "post"])
@pytest.mark.parametrize("hint", HINTS[:2], ids=["no-hint", "wrong-hint"])
async def test_revoking_its_own_api_key_deletes_it_with_an_audit_event(
    scene: Scene, auth: str, hint: dict[str, str]
) -> None:
    created = await new_api_key(scene.svc, scene.admin, ["clients:read"])
    kept = await new_api_key(scene.svc, scene.admin, ["clients:read"])
    assert await admin_status(scene.svc, created["value"]) == 200
    before = await snapshot(scene.ctx)

    assert_revoked_reply(await scene.svc.revoke(created["value"], auth=auth, **hint))

    changed = changed_tables(before, await snapshot(scene.ctx))
    assert set(changed) == {"api_keys", "audit_events", "change_log"}
    (gone,), added = changed["api_keys"]
    assert (str(gone[0]), added) == (created["id"], [])
    assert [len(rows) for rows in changed["audit_events"]] == [0, 1]
    (event,) = await audit_events(scene.ctx, "api_key.revoked", created["id"])
    assert (event.actor, event.actor_tenant, event.actor_client_id) == ("client:svc", scene.svc.tenant, "svc")
    assert (event.target_type, event.changes) == ("api_key", {"clientId": "svc"})
    listed = (await scene.svc.http.get(scene.svc.admin_url("/api-keys"), headers=scene.admin)).json()["items"]
    assert [key["id"] for key in listed] == [kept["id"]]
    assert await introspected(scene.rs, created["value"]) == INACTIVE
    assert await admin_status(scene.svc, created["value"]) == 401
    assert await admin_status(scene.svc, kept["value"]) == 200


async def test_another_clients_api_key_is_refused_and_kept(scene: Scene) -> None:
    created = await new_api_key(scene.svc, scene.admin, ["clients:read"])
    async with unchanged(scene.ctx):
        assert_oauth_error(await scene.rs.revoke(created["value"]), 400, "unauthorized_client")
    assert await admin_status(scene.svc, created["value"]) == 200


# --- nothing to revoke ------------------------------------------------------------------------


async def already_deleted_api_key(s: Scene) -> str:
    created = await new_api_key(s.svc, s.admin, ["clients:read"])
    await revoke_ok(s.svc, created["value"])
    value: str = created["value"]
    return value


async def forged_alg_none(s: Scene) -> str:
    return compact({"alg": "none", "kid": (await s.key()).kid, "typ": "at+jwt"}, await s.claims())


async def token_of_an_unknown_client(s: Scene) -> str:
    return (await s.key()).sign(await s.claims("nobody"))


async def client_secret(s: Scene) -> str:
    return s.svc.secret


def constant(value: str) -> Callable[[Scene], Awaitable[str]]:
    async def make(_s: Scene) -> str:
        return value

    return make


NOTHING_TO_REVOKE: dict[str, Callable[[Scene], Awaitable[str]]] = {
    "malformed": constant("not-a-token"),
    "three dots": constant("a.b.c"),
    "expired, its own": expired_token,
    "another tenant's token": token_of_another_tenant,
    "alg none": forged_alg_none,
    "unknown client_id": token_of_an_unknown_client,
    "unknown API key": unknown_api_key,
    "API key already revoked": already_deleted_api_key,
    "another tenant's API key": api_key_of_another_tenant,
    "a client secret": client_secret,
}


@pytest.mark.parametrize("case", list(NOTHING_TO_REVOKE))
async def test_a_token_it_cannot_revoke_is_200_and_changes_nothing(scene: Scene, case: str) -> None:
    token = await NOTHING_TO_REVOKE[case](scene)
    async with unchanged(scene.ctx):
        await revoke_ok(scene.svc, token)


async def test_another_tenants_token_stays_live_there(scene: Scene) -> None:
    other = await scene.other_tenant_app()
    token, key = (
        await other.access_token(),
        (await new_api_key(other, scene.admin, ["clients:read"]))["value"],
    )
    await revoke_ok(scene.svc, token)
    await revoke_ok(scene.svc, key)
    assert await is_active(other, token)
    assert await is_active(other, key)


async def test_the_deny_list_holds_for_a_fresh_process(scene: Scene, settings: Settings) -> None:
    """Another process (a new context) loads the deny-list from the table."""
    token = await scene.svc.access_token()
    await revoke_ok(scene.svc, token)
    fresh = Context.create(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, fresh))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            rs = App(http, scene.rs.tenant, scene.rs.client_id, scene.rs.secret)
            assert await introspected(rs, token) == INACTIVE
    finally:
        await fresh.db.dispose()
