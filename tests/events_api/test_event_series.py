"""A scripted series through the real HTTP endpoints — client-credentials tokens, wrong
secrets, sign-ins and failed sign-ins at the sign-in form, a code exchange, a password grant —
then one flush of the buffer, and the exact events (Event API) and counts (Metric API) on
SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pforte.domain.clients import ClientSpec
from pforte.services import clients as client_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from tests.conftest import bearer, make_key
from tests.protocol.flow import PASSWORD, App, make_app

pytestmark = pytest.mark.anyio
EVENTS = "/api/events/v1/tenants"
METRICS = "/api/metrics/v1/tenants"
TOKENS, WRONG, SIGN_INS, FAILED_SIGN_INS = 5, 2, 2, 2
WRONG_SECRET = "pfs_not-the-secret-but-looks-like-one"


@dataclass(frozen=True, slots=True)
class Series:
    tenant: str
    key: str  # events:read
    web: App
    started: datetime


async def token(http: httpx.AsyncClient, tenant: str, client_id: str, secret: str) -> httpx.Response:
    return await http.post(
        f"/t/{tenant}/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )


async def run_series(ctx: Context, http: httpx.AsyncClient, tenant: str) -> Series:
    started = datetime.now(UTC)
    key = await make_key(ctx, tenant, ["events:read"], client_id="reader")
    spec = ClientSpec(client_id="svc", allowed_scopes=["events:read"])
    _, secret = await client_service.create_client(ctx, SYSTEM_PRINCIPAL, tenant, spec)
    assert secret is not None
    for _ in range(TOKENS):
        assert (await token(http, tenant, "svc", secret.value)).status_code == 200
    for _ in range(WRONG):
        assert (await token(http, tenant, "svc", WRONG_SECRET)).status_code == 401
    assert (await token(http, tenant, "ghost", WRONG_SECRET)).status_code == 401
    web = await make_app(ctx, tenant, allowed_grant_types=["authorization_code", "password"], allow_ropc=True)
    for _ in range(FAILED_SIGN_INS):
        failed = await web.sign_in(http, web.authorize_params(), password="wrong password")
        assert failed.status_code == 200 and "sign-in" in failed.text.lower()
    code, _ = await web.code(http)
    assert (await web.exchange(http, code)).status_code == 200
    for _ in range(SIGN_INS - 1):
        await web.code(http, prompt="login")
    grant = await http.post(
        f"/t/{tenant}/token",
        data={"grant_type": "password", "username": web.username, "password": PASSWORD, "scope": "openid"},
        auth=(web.client_id, web.secret or ""),
    )
    assert grant.status_code == 200, grant.text
    return Series(tenant, key, web, started)


@pytest.fixture
async def series(ctx: Context, client: httpx.AsyncClient, tenant: str) -> Series:
    done = await run_series(ctx, client, tenant)
    assert ctx.events.pending == TOKENS + 2 + WRONG + 1  # nothing written yet: all in memory
    assert await ctx.events.flush(ctx.db) == TOKENS + 2 + WRONG + 1
    assert ctx.events.pending == 0
    return done


async def events(http: httpx.AsyncClient, s: Series, **params: Any) -> list[dict[str, Any]]:
    """Every page of the Event API with ``params``, walked with ``limit=3``."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 3, **params, **({"cursor": cursor} if cursor else {})}
        page = await http.get(f"{EVENTS}/{s.tenant}/events", params=query, headers=bearer(s.key))
        assert page.status_code == 200, page.text
        body = page.json()
        assert set(body) == {"items", "next"}
        assert len(body["items"]) <= 3
        found += body["items"]
        cursor = body["next"]
        if cursor is None:
            return found


def types(items: list[dict[str, Any]]) -> list[str]:
    return [i["type"] for i in items]


async def test_the_event_api_has_each_event_once_newest_first(
    client: httpx.AsyncClient, series: Series
) -> None:
    every = await events(client, series)
    ids = [e["id"] for e in every]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids, reverse=True)  # UUIDv7: newest first
    stamps = [datetime.fromisoformat(e["createdAt"]) for e in every]
    assert stamps == sorted(stamps, reverse=True)
    counted = {name: types(every).count(name) for name in set(types(every))}
    assert counted["token.issued"] == TOKENS + 2
    assert counted["client.authentication_failed"] == WRONG + 1
    assert counted["user.signed_in"] == SIGN_INS
    assert counted["user.sign_in_failed"] == FAILED_SIGN_INS
    assert counted["password_grant.used"] == 1
    assert set(every[0]) == {
        "id", "type", "createdAt", "actor", "actorClientId", "targetType", "targetId",
        "clientId", "userId", "changes", "requestId",
    }  # fmt: skip
    one_page = await client.get(
        f"{EVENTS}/{series.tenant}/events", params={"limit": 200}, headers=bearer(series.key)
    )
    assert [e["id"] for e in one_page.json()["items"]] == ids


async def test_token_and_failure_events_carry_what_they_should_and_never_a_secret(
    client: httpx.AsyncClient, series: Series
) -> None:
    issued = await events(client, series, type="token.issued")
    assert types(issued) == ["token.issued"] * (TOKENS + 2)
    by_grant = {e["changes"]["grantType"]: e for e in issued}
    assert [e["changes"]["grantType"] for e in issued].count("client_credentials") == TOKENS
    cc, code, password = by_grant["client_credentials"], by_grant["authorization_code"], by_grant["password"]
    assert cc["actor"] == "client:svc" and cc["actorClientId"] == "svc" and cc["clientId"] == "svc"
    assert cc["userId"] is None and cc["changes"]["scope"] == "events:read"
    assert len(cc["changes"]["jti"]) >= 16 and cc["targetId"] == cc["changes"]["jti"]
    assert cc["requestId"]
    for user_token in (code, password):
        assert user_token["userId"] == str(series.web.user_id)
        assert user_token["clientId"] == series.web.client_id
        assert user_token["changes"]["jti"]
    assert password["changes"]["scope"] == "openid"
    failed = await events(client, series, type="client.authentication_failed")
    assert sorted(e["changes"]["clientId"] for e in failed) == ["ghost", "svc", "svc"]
    assert {e["changes"]["reason"] for e in failed} == {"invalid_client"}
    assert {e["actor"] for e in failed} == {"anonymous:-"}
    everything = await client.get(
        f"{EVENTS}/{series.tenant}/events", params={"limit": 200}, headers=bearer(series.key)
    )
    assert WRONG_SECRET not in everything.text and "wrong password" not in everything.text
    assert PASSWORD not in everything.text


async def test_filters_by_type_client_user_and_time(client: httpx.AsyncClient, series: Series) -> None:
    svc = await events(client, series, clientId="svc")
    assert sorted(types(svc)) == sorted(
        ["client.created", "client_secret.created"]
        + ["token.issued"] * TOKENS
        + ["client.authentication_failed"] * WRONG
    )
    web_user = await events(client, series, userId=str(series.web.user_id))
    assert sorted(types(web_user)) == sorted(
        ["user.created", "password_grant.used"] + ["user.signed_in"] * SIGN_INS + ["token.issued"] * 2
    )
    assert {e["userId"] for e in web_user} == {str(series.web.user_id)}
    signed_in = await events(client, series, type="user.signed_in", clientId=series.web.client_id)
    assert types(signed_in) == ["user.signed_in"] * SIGN_INS
    assert all(e["changes"]["clientId"] == series.web.client_id for e in signed_in)
    users = await events(client, series, type="user.")
    assert sorted(types(users)) == sorted(
        ["user.created"] + ["user.signed_in"] * SIGN_INS + ["user.sign_in_failed"] * FAILED_SIGN_INS
    )
    repeated = await events(client, series, type=["token.issued", "user.sign_in_failed"])
    listed = await events(client, series, type="token.issued,user.sign_in_failed")
    assert repeated == listed and len(listed) == TOKENS + 2 + FAILED_SIGN_INS
    every = await events(client, series)
    middle = every[len(every) // 2]
    moment = middle["createdAt"]
    before = await events(client, series, to=moment)
    after = await events(client, series, **{"from": moment})
    assert {e["id"] for e in before} | {e["id"] for e in after} == {e["id"] for e in every}
    assert not {e["id"] for e in before} & {e["id"] for e in after}  # from inclusive, to exclusive
    assert middle["id"] in {e["id"] for e in after}
    assert all(datetime.fromisoformat(e["createdAt"]) < datetime.fromisoformat(moment) for e in before)
    nothing = await events(
        client, series, **{"from": "2000-01-01T00:00:00+02:00", "to": "2000-01-02T00:00:00Z"}
    )
    assert nothing == []


async def test_the_metric_api_counts_exactly(client: httpx.AsyncClient, series: Series) -> None:
    today = datetime.now(UTC).date().isoformat()
    answer = await client.get(
        f"{METRICS}/{series.tenant}/daily", params={"from": today, "to": today}, headers=bearer(series.key)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    zero = {"failedClientAuthentications": 0, "signIns": 0, "signInFailures": 0, "activeUsers": 0}
    assert body["items"] == [
        {"day": today, "clientId": "ghost", **zero, "tokensIssued": 0, "failedClientAuthentications": 1},
        {
            "day": today,
            "clientId": "svc",
            **zero,
            "tokensIssued": TOKENS,
            "failedClientAuthentications": WRONG,
        },
        {
            "day": today,
            "clientId": series.web.client_id,
            "tokensIssued": 2,
            "failedClientAuthentications": 0,
            "signIns": SIGN_INS,
            "signInFailures": FAILED_SIGN_INS,
            "activeUsers": 1,
        },
    ]
    assert body["totals"] == [
        {
            "day": today,
            "tokensIssued": TOKENS + 2,
            "failedClientAuthentications": WRONG + 1,
            "signIns": SIGN_INS,
            "signInFailures": FAILED_SIGN_INS,
            "activeUsers": 1,
        }
    ]
    one = await client.get(
        f"{METRICS}/{series.tenant}/daily", params={"clientId": "svc"}, headers=bearer(series.key)
    )
    assert one.status_code == 200
    assert [i["clientId"] for i in one.json()["items"]] == ["svc"]
    assert len(one.json()["totals"]) == 30 and one.json()["totals"][-1]["tokensIssued"] == TOKENS


async def test_a_second_flush_adds_to_the_days_counts(
    ctx: Context, client: httpx.AsyncClient, series: Series
) -> None:
    spec = ClientSpec(client_id="svc2", allowed_scopes=["events:read"])
    _, secret = await client_service.create_client(ctx, SYSTEM_PRINCIPAL, series.tenant, spec)
    assert secret is not None
    assert (await token(client, series.tenant, "svc2", secret.value)).status_code == 200
    assert (await token(client, series.tenant, "svc", WRONG_SECRET)).status_code == 401
    await ctx.events.flush(ctx.db)
    answer = await client.get(f"{METRICS}/{series.tenant}/daily", headers=bearer(series.key))
    counts = {i["clientId"]: i for i in answer.json()["items"]}
    assert counts["svc"]["failedClientAuthentications"] == WRONG + 1
    assert counts["svc2"]["tokensIssued"] == 1
    assert answer.json()["totals"][-1]["tokensIssued"] == TOKENS + 3
