"""Concurrent changes through the User API and the roles routes keep every invariant, on both
databases: two real ``pforte serve`` processes on one database, requests fired at once, split
between them, and the stored state checked afterwards (never a 500)."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from tests.e2e.test_concurrency import TENANT, Pair, pair  # noqa: F401 - the module's servers

pytestmark = pytest.mark.e2e

USERS = f"/api/users/v1/tenants/{TENANT}/users"
ROLES = f"/api/admin/v1/tenants/{TENANT}/roles"


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def create_user(pair: Pair, username: str) -> str:  # noqa: F811 - the fixture's name
    with pair.http() as http:
        made = http.post(USERS, json={"username": username})
    assert made.status_code == 201, made.text
    user_id: str = made.json()["id"]
    return user_id


def test_one_username_whatever_its_case(pair: Pair) -> None:  # noqa: F811
    spellings = ["grace", "Grace", "GRACE", "gRaCe", "graCE"] * 6
    responses = pair.fire([("POST", USERS, {"username": name}) for name in spellings])
    assert statuses(responses) == {201: 1, 409: 29}, [r.text for r in responses if r.status_code >= 500]
    with pair.http() as http:
        found = http.get(USERS, params={"username": "grace", "count": "true"}).json()
    assert found["total"] == 1


def test_renames_to_one_name_win_once(pair: Pair) -> None:  # noqa: F811
    ids = [create_user(pair, f"rename-{i}") for i in range(20)]
    responses = pair.fire([("PATCH", f"{USERS}/{user_id}", {"username": "Chosen"}) for user_id in ids])
    assert statuses(responses) == {200: 1, 409: 19}
    with pair.http() as http:
        assert http.get(USERS, params={"username": "chosen", "count": "true"}).json()["total"] == 1


def test_one_version_one_change(pair: Pair) -> None:  # noqa: F811
    user_id = create_user(pair, "versioned")
    with pair.http() as http:
        etag = http.get(f"{USERS}/{user_id}").headers["etag"]
    responses = pair.fire(
        [("PATCH", f"{USERS}/{user_id}", {"givenName": f"G{i}"}) for i in range(20)],
        headers={"If-Match": etag},
    )
    assert statuses(responses) == {200: 1, 412: 19}
    winner = next(r.json()["givenName"] for r in responses if r.status_code == 200)
    with pair.http() as http:
        stored = http.get(f"{USERS}/{user_id}")
    assert stored.json()["givenName"] == winner and stored.headers["etag"] == '"2"'


def test_a_user_is_deleted_once(pair: Pair) -> None:  # noqa: F811
    user_id = create_user(pair, "deleted-once")
    responses = pair.fire([("DELETE", f"{USERS}/{user_id}", None) for _ in range(20)])
    assert statuses(responses) == {204: 1, 404: 19}
    assert pair.events("user.deleted", user_id) == 1


def test_deleting_a_role_while_it_is_assigned(pair: Pair) -> None:  # noqa: F811
    ids = [create_user(pair, f"holder-{i}") for i in range(20)]
    with pair.http() as http:
        assert http.post(ROLES, json={"name": "temp"}).status_code == 201
    requests = [("POST", f"{USERS}/{user_id}/roles", {"name": "temp"}) for user_id in ids]
    requests.insert(10, ("DELETE", f"{ROLES}/temp", None))
    responses = pair.fire(requests)
    assigned = statuses(responses[:10] + responses[11:])
    assert set(assigned) <= {204, 404}, [r.text for r in responses if r.status_code >= 500]
    assert responses[10].status_code == 204
    with pair.http() as http:
        assert http.get(f"{ROLES}/temp").status_code == 404
        holders = [http.get(f"{USERS}/{user_id}/roles").json()["items"] for user_id in ids]
    assert all(items == [] for items in holders)  # no assignment outlives its role


def test_one_role_name(pair: Pair) -> None:  # noqa: F811
    responses = pair.fire([("POST", ROLES, {"name": "unique", "description": f"d{i}"}) for i in range(20)])
    assert statuses(responses) == {201: 1, 409: 19}
