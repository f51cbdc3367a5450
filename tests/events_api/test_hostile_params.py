"""Query parameters no event, client, user or day can match are 422 problem+json before any
query (PostgreSQL refuses NUL): never a 500, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pforte.services.context import Context
from tests.conftest import assert_problem, bearer, make_key

pytestmark = pytest.mark.anyio
EVENTS = "/api/events/v1/tenants/{t}/events"
DAILY = "/api/metrics/v1/tenants/{t}/daily"

HOSTILE: list[tuple[str, dict[str, Any]]] = [
    (EVENTS, {"type": "user.\x00"}),
    (EVENTS, {"type": "x" * 5000}),
    (EVENTS, {"type": ",".join(["user."] * 21)}),
    (EVENTS, {"type": "USER.signed_in"}),
    (EVENTS, {"clientId": "shop\x00"}),
    (EVENTS, {"clientId": "x" * 129}),
    (EVENTS, {"clientId": ".."}),
    (EVENTS, {"userId": "not-a-uuid"}),
    (EVENTS, {"userId": "\x00" * 36}),
    (EVENTS, {"userId": "0" * 5000}),
    (EVENTS, {"from": "2026-12-06T10:00:00"}),  # no zone
    (EVENTS, {"to": "2026-12-06 10:00"}),
    (EVENTS, {"from": "yesterday"}),
    (EVENTS, {"from": "9" * 400}),
    (EVENTS, {"cursor": "not a cursor"}),
    (EVENTS, {"cursor": "AA"}),
    (EVENTS, {"cursor": "bm90LWEtdXVpZA"}),  # base64url of "not-a-uuid"
    (EVENTS, {"cursor": "AAAA" * 2000}),
    (EVENTS, {"limit": "0"}),
    (EVENTS, {"limit": "100000"}),
    (EVENTS, {"limit": "\x00"}),
    (DAILY, {"from": "2026-13-01"}),
    (DAILY, {"from": "2026-12-06T00:00:00Z"}),
    (DAILY, {"to": "\x00"}),
    (DAILY, {"from": "2025-01-01", "to": "2026-12-06"}),  # longer than 366 days
    (DAILY, {"from": "2026-12-06", "to": "2026-12-01"}),
    (DAILY, {"from": "0001-01-01", "to": "9999-12-31"}),
    (DAILY, {"clientId": "a b"}),
    (DAILY, {"clientId": "\x00"}),
]


@pytest.mark.parametrize(("path", "params"), HOSTILE, ids=lambda v: repr(v)[:60])
async def test_hostile_parameters_are_422(
    client: httpx.AsyncClient, ctx: Context, tenant: str, path: str, params: dict[str, Any]
) -> None:
    key = await make_key(ctx, tenant, ["events:read"])
    response = await client.get(path.replace("{t}", tenant), params=params, headers=bearer(key))
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"], body


async def test_the_widest_valid_range_and_a_far_past_window_answer(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    key = await make_key(ctx, tenant, ["events:read"])
    wide = await client.get(
        DAILY.replace("{t}", tenant), params={"from": "2025-12-06", "to": "2026-12-06"}, headers=bearer(key)
    )
    assert wide.status_code == 200 and len(wide.json()["totals"]) == 366
    past = await client.get(
        EVENTS.replace("{t}", tenant),
        params={"from": "0001-01-01T00:00:00Z", "to": "0001-01-02T00:00:00+14:00"},
        headers=bearer(key),
    )
    assert past.status_code == 200 and past.json() == {"items": [], "next": None}
