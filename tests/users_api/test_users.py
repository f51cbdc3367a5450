"""The User API's behaviour (DESIGN.md §7): typed filters, keyset pages, totals, the brief form,
create with a password, merge patches, preconditions, roles, and what never comes out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pforte.services import roles as role_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from tests.conftest import assert_problem, audit_events, scalar, snapshot
from tests.protocol.flow import make_app

pytestmark = pytest.mark.anyio
BASE = "/api/users/v1/tenants"

PEOPLE = [
    {"username": "ada", "email": "ada@lovelace.example", "givenName": "Ada", "familyName": "Lovelace"},
    {"username": "Alan", "email": "turing@bletchley.example", "givenName": "Alan", "familyName": "Turing"},
    {
        "username": "grace",
        "email": "GRACE@navy.example",
        "givenName": "Grace",
        "familyName": "Hopper",
        "emailVerified": True,
    },
    {
        "username": "Ärger",
        "email": "aerger@umlaut.example",
        "givenName": "Öskar",
        "familyName": "Über",
        "enabled": False,
    },
    {"username": "linus", "givenName": "Linus", "familyName": "Torvalds"},
]


IN_TENANT = "tenant_id = (SELECT id FROM tenants WHERE slug = :t)"


async def stored_hash(ctx: Context, tenant: str, username: str) -> str:
    value = await scalar(
        ctx, f"SELECT password_hash FROM users WHERE {IN_TENANT} AND username = :u", t=tenant, u=username
    )
    assert isinstance(value, str)
    return value


async def populate(http: httpx.AsyncClient, admin: dict[str, str], tenant: str) -> dict[str, Any]:
    created = {}
    for person in PEOPLE:
        response = await http.post(f"{BASE}/{tenant}/users", json=person, headers=admin)
        assert response.status_code == 201, response.text
        created[person["username"]] = response.json()
    return created


async def names(http: httpx.AsyncClient, admin: dict[str, str], tenant: str, **query: str) -> list[str]:
    response = await http.get(f"{BASE}/{tenant}/users", params=query, headers=admin)
    assert response.status_code == 200, response.text
    return [u["username"] for u in response.json()["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["ada", "Alan", "grace", "linus", "Ärger"]),
        ({"search": "a"}, ["ada", "Alan", "Ärger"]),  # ada/Ada, Alan, aerger@ (e-mail)
        ({"search": "TUR"}, ["Alan"]),  # e-mail and family name, any case
        ({"search": "hop"}, ["grace"]),
        ({"search": "über"}, ["Ärger"]),  # case-folded beyond ASCII, on SQLite too
        ({"search": "ÜBER"}, ["Ärger"]),
        ({"search": "öskar"}, ["Ärger"]),
        ({"search": "zzz"}, []),
        ({"username": "AL"}, ["Alan"]),
        ({"username": "ärg"}, ["Ärger"]),
        ({"email": "grace@"}, ["grace"]),  # stored as GRACE@…
        ({"email": "ada"}, ["ada"]),
        ({"enabled": "false"}, ["Ärger"]),
        ({"enabled": "true", "search": "a"}, ["ada", "Alan"]),
        ({"emailVerified": "true"}, ["grace"]),
        ({"role": "staff"}, ["grace", "linus"]),
    ],
)
async def test_filters(
    client: httpx.AsyncClient,
    ctx: Context,
    admin: dict[str, str],
    tenant: str,
    query: dict[str, str],
    expected: list[str],
) -> None:
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name="staff", description=None, permissions=[]
    )
    await populate(client, admin, tenant)
    for username in ("grace", "linus"):
        added = await client.post(
            f"{BASE}/{tenant}/users/{username}/roles", json={"name": "staff"}, headers=admin
        )
        assert added.status_code == 204
    assert await names(client, admin, tenant, **query) == expected


async def test_created_after_and_before_are_a_half_open_range(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    created = await populate(client, admin, tenant)
    moments = sorted(u["createdAt"] for u in created.values())
    middle = moments[2]
    after = await names(client, admin, tenant, createdAfter=middle)
    before = await names(client, admin, tenant, createdBefore=middle)
    assert sorted(after + before) == sorted(u["username"] for u in created.values())
    assert set(after).isdisjoint(before)
    naive = await client.get(
        f"{BASE}/{tenant}/users", params={"createdAfter": "2026-01-01T00:00:00"}, headers=admin
    )
    assert_problem(naive, 422, "validation-error")


async def test_pages_count_and_brief(client: httpx.AsyncClient, admin: dict[str, str], tenant: str) -> None:
    await populate(client, admin, tenant)
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "2", "count": "true", "brief": "true", **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{BASE}/{tenant}/users", params=query, headers=admin)
        assert response.status_code == 200
        page = response.json()
        assert page["total"] == 5
        assert all(set(item) == {"id", "username", "enabled"} for item in page["items"])
        seen += [item["username"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == ["ada", "Alan", "grace", "linus", "Ärger"]
    plain = (await client.get(f"{BASE}/{tenant}/users", headers=admin)).json()
    assert plain["total"] is None and plain["next"] is None
    assert set(plain["items"][0]) == {
        "id",
        "username",
        "email",
        "emailVerified",
        "givenName",
        "familyName",
        "enabled",
        "mustChangePassword",
        "roles",
        "createdAt",
        "updatedAt",
    }
    bad = await client.get(f"{BASE}/{tenant}/users", params={"cursor": "not-ours"}, headers=admin)
    assert_problem(bad, 422, "validation-error")


async def test_a_user_created_with_a_password_signs_in_and_it_never_comes_out(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    app = await make_app(ctx, tenant, allowed_grant_types=["password"], allow_ropc=True)
    response = await client.post(
        f"{BASE}/{tenant}/users",
        json={"username": "Margaret", "password": "apollo guidance computer", "email": "mh@nasa.example"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert "password" not in response.text and "argon2" not in response.text
    assert user["mustChangePassword"] is False and user["enabled"] is True and user["roles"] == []
    grant = await client.post(
        f"/t/{tenant}/token",
        data={"grant_type": "password", "username": "margaret", "password": "apollo guidance computer"},
        auth=(app.client_id, app.secret or ""),
    )
    assert grant.status_code == 200, grant.text
    stored = await stored_hash(ctx, tenant, "Margaret")
    assert stored.startswith("$argon2id$")
    events = await audit_events(ctx, "user.created", user["id"])
    assert len(events) == 1 and events[0].changes["password"] is True
    assert "apollo" not in str(events[0].changes)


async def test_create_refusals_change_nothing(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    await populate(client, admin, tenant)
    before = await snapshot(ctx)
    taken = await client.post(f"{BASE}/{tenant}/users", json={"username": "ADA"}, headers=admin)
    assert_problem(taken, 409, "conflict")
    short = await client.post(
        f"{BASE}/{tenant}/users", json={"username": "x", "password": "short"}, headers=admin
    )
    assert_problem(short, 422, "validation-error")
    assert "short" not in short.text
    role = await client.post(
        f"{BASE}/{tenant}/users", json={"username": "y", "roles": ["nope"]}, headers=admin
    )
    assert_problem(role, 404, "not-found")
    extra = await client.post(
        f"{BASE}/{tenant}/users", json={"username": "z", "passwordHash": "x"}, headers=admin
    )
    assert_problem(extra, 422, "validation-error")
    assert await snapshot(ctx) == before


async def test_patch_is_a_merge_patch_with_preconditions(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    await populate(client, admin, tenant)
    url = f"{BASE}/{tenant}/users/ada"
    read = await client.get(url, headers=admin)
    etag = read.headers["etag"]
    assert etag == '"1"'
    changed = await client.patch(
        url, json={"familyName": None, "givenName": "Augusta"}, headers={**admin, "If-Match": etag}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["givenName"], body["familyName"], body["email"]) == ("Augusta", None, "ada@lovelace.example")
    assert changed.headers["etag"] == '"2"'
    before = await snapshot(ctx)
    stale = await client.patch(url, json={"givenName": "Lost"}, headers={**admin, "If-Match": etag})
    assert_problem(stale, 412, "precondition-failed")
    stale_delete = await client.delete(url, headers={**admin, "If-Match": etag})
    assert_problem(stale_delete, 412, "precondition-failed")
    taken = await client.patch(url, json={"username": "GRACE"}, headers=admin)
    assert_problem(taken, 409, "conflict")
    assert await snapshot(ctx) == before
    # found by username in any case, and by id
    by_id = await client.get(f"{BASE}/{tenant}/users/{body['id']}", headers=admin)
    assert by_id.json()["username"] == "ada"
    assert (await client.get(f"{BASE}/{tenant}/users/ADA", headers=admin)).json()["id"] == body["id"]


async def test_set_password_with_must_change(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    await populate(client, admin, tenant)
    url = f"{BASE}/{tenant}/users/linus"
    response = await client.put(
        f"{url}/password", json={"password": "a brand new passphrase", "mustChange": True}, headers=admin
    )
    assert response.status_code == 204
    assert (await client.get(url, headers=admin)).json()["mustChangePassword"] is True
    stored = await stored_hash(ctx, tenant, "linus")
    assert stored.startswith("$argon2id$")
    again = await client.put(f"{url}/password", json={"password": "another passphrase"}, headers=admin)
    assert again.status_code == 204
    assert (await client.get(url, headers=admin)).json()["mustChangePassword"] is False


async def test_disable_enable_and_delete(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    created = await populate(client, admin, tenant)
    url = f"{BASE}/{tenant}/users/ada"
    disabled = await client.post(f"{url}/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    enabled = await client.post(f"{url}/enable", headers=admin)
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert_problem(await client.get(url, headers=admin), 404, "not-found")
    assert (
        await scalar(ctx, f"SELECT count(*) FROM users WHERE {IN_TENANT} AND username = 'ada'", t=tenant) == 0
    )
    assert len(await audit_events(ctx, "user.deleted", created["ada"]["id"])) == 1


async def test_a_users_roles(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str
) -> None:
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name="staff", description=None, permissions=[]
    )
    await populate(client, admin, tenant)
    url = f"{BASE}/{tenant}/users/grace/roles"
    assert (await client.get(url, headers=admin)).json() == {"items": [], "next": None}
    assert (await client.post(url, json={"name": "staff"}, headers=admin)).status_code == 204
    assert (await client.post(url, json={"name": "staff"}, headers=admin)).status_code == 204  # idempotent
    assert (await client.get(url, headers=admin)).json() == {"items": [{"name": "staff"}], "next": None}
    assert (await client.get(f"{BASE}/{tenant}/users/grace", headers=admin)).json()["roles"] == ["staff"]
    assert (await client.delete(f"{url}/staff", headers=admin)).status_code == 204
    before = await snapshot(ctx)
    assert_problem(await client.delete(f"{url}/staff", headers=admin), 404, "not-found")
    assert_problem(await client.post(url, json={"name": "nope"}, headers=admin), 404, "not-found")
    assert await snapshot(ctx) == before


@pytest.mark.parametrize(
    "path",
    [
        "/users/%00",
        "/users/a%0Ab",
        "/users/" + "x" * 300,
        "/users/ada/roles/%00",
        "/users/ada/roles/" + "r" * 300,
    ],
)
async def test_hostile_paths_are_not_found(
    client: httpx.AsyncClient, ctx: Context, admin: dict[str, str], tenant: str, path: str
) -> None:
    await populate(client, admin, tenant)
    method = "DELETE" if "/roles/" in path else "GET"
    response = await client.request(method, f"{BASE}/{tenant}{path}", headers=admin)
    assert_problem(response, 404, "not-found")


async def test_a_search_ending_in_the_last_code_point_is_no_crash(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    await populate(client, admin, tenant)
    for query in ("\U0010ffff", "ada\U0010ffff", "\ud7ff"):
        response = await client.get(f"{BASE}/{tenant}/users", params={"search": query}, headers=admin)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"search": "\x00"},
        {"search": ""},
        {"username": "a\u0000"},
        {"search": "s" * 201},
        {"role": "\x00"},
        {"enabled": "maybe"},
        {"limit": "0"},
        {"createdBefore": "yesterday"},
    ],
)
async def test_hostile_filters_are_refused(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, query: dict[str, str]
) -> None:
    query = {k: v.replace("\\x00", "\x00").replace("\\u0000", "\u0000") for k, v in query.items()}
    response = await client.get(f"{BASE}/{tenant}/users", params=query, headers=admin)
    assert response.status_code in {404, 422}, response.text
    assert response.headers["content-type"] == "application/problem+json"
