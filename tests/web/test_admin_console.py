"""The admin console (DESIGN.md §8) over HTTP against the ASGI app, SQLite and PostgreSQL:
signing in as ``pforte-admin-console``, who may use it, the tenant picker, and the applications
list (search, sort, pages, bulk actions) acting through the same services and audit."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from pforte.domain.clients import ClientSpec
from pforte.domain.consoles import ADMIN, BUILTIN_CLIENT_IDS
from pforte.domain.users import UserSpec
from pforte.services import clients as client_service
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.web.consoles.messages import MESSAGES
from tests.conftest import audit_events, make_tenant, snapshot
from tests.protocol.flow import PASSWORD, form_of, query_of
from tests.web.consoles import sign_in_to_console

pytestmark = pytest.mark.anyio

ROW = re.compile(r'name="client_id" value="([^"]+)"')


async def person(ctx: Context, tenant: str, roles: list[str]) -> str:
    username = f"admin-{uuid.uuid4().hex[:6]}"
    await user_service.create_user(
        ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username=username), password=PASSWORD, roles=roles
    )
    return username


async def app(ctx: Context, tenant: str, client_id: str, **fields: object) -> None:
    await client_service.create_client(
        ctx, SYSTEM_PRINCIPAL, tenant, ClientSpec(client_id=client_id, **fields)
    )  # type: ignore[arg-type]


async def open_console(http: httpx.AsyncClient, tenant: str, username: str) -> httpx.Response:
    """Sign in and follow the console's home to where it sends this person."""
    home = await sign_in_to_console(http, tenant, username, path=ADMIN.path)
    if home.status_code == 303:
        return await http.get(home.headers["location"])
    return home


def listed(page: str) -> list[str]:
    """The rows' clientIds, without the consoles' built-in clients (listed, never selectable)."""
    return [c for c in ROW.findall(page) if c not in BUILTIN_CLIENT_IDS]


def test_both_languages_hold_the_same_messages() -> None:
    assert MESSAGES["en"].keys() == MESSAGES["de"].keys()
    for key, text in MESSAGES["en"].items():
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", MESSAGES["de"][key])), key


async def test_admin_redirects_to_the_system_tenants_console(client: httpx.AsyncClient) -> None:
    for path in ("/admin", "/admin/"):
        answer = await client.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/t/system/admin/"


async def test_signed_out_the_console_signs_in_as_its_public_client(
    client: httpx.AsyncClient, tenant: str
) -> None:
    answer = await client.get(f"/t/{tenant}/admin/")
    assert answer.status_code == 303
    params = query_of(answer.headers["location"])
    assert params["client_id"] == ADMIN.client_id and params["code_challenge_method"] == "S256"
    assert params["redirect_uri"].endswith(f"/t/{tenant}/admin/callback")


async def test_a_tenant_admin_lands_on_the_applications_list(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    username = await person(ctx, tenant, ["admin"])
    await app(ctx, tenant, "shop", client_name="Shop", owner="Team Checkout")
    page = await open_console(client, tenant, username)
    assert page.status_code == 200
    assert str(page.url).endswith(f"/t/{tenant}/admin/{tenant}/applications")
    assert "Shop" in page.text and "Team Checkout" in page.text
    # the built-in clients are listed, but cannot be ticked for bulk changes
    assert listed(page.text) == ["shop"]
    assert f'value="{ADMIN.client_id}" id="select-2" aria-labelledby="name-2" disabled' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
    assert f"Signed in as {username}" in page.text
    assert '<time datetime="' in page.text


async def test_a_user_without_admin_permissions_sees_no_access(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    username = await person(ctx, tenant, [])
    page = await sign_in_to_console(client, tenant, username, path=ADMIN.path)
    assert page.status_code == 403
    assert "You have no access to this console" in page.text
    assert listed(page.text) == []


async def test_a_tenant_admin_cannot_reach_another_tenant(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    other = await make_tenant(ctx)
    await app(ctx, other, "theirs")
    username = await person(ctx, tenant, ["admin"])
    await open_console(client, tenant, username)
    answer = await client.get(f"/t/{tenant}/admin/{other}/applications")
    assert answer.status_code == 403 and "theirs" not in answer.text


async def test_the_operator_picks_any_tenant(ctx: Context, client: httpx.AsyncClient) -> None:
    other = await make_tenant(ctx)
    await app(ctx, other, "theirs", client_name="Their app")
    username = await person(ctx, "system", ["admin"])
    picker = await sign_in_to_console(client, "system", username, path=ADMIN.path)
    assert picker.status_code == 200 and "Select tenant" in picker.text
    assert f'href="/t/system/admin/{other}/applications"' in picker.text
    page = await client.get(f"/t/system/admin/{other}/applications")
    assert page.status_code == 200 and listed(page.text) == ["theirs"]
    german = await client.get("/t/system/admin/", headers={"Accept-Language": "de"})
    assert "Instanz auswählen" in german.text


async def test_search_sort_and_pages(ctx: Context, client: httpx.AsyncClient, tenant: str) -> None:
    for i in range(30):
        await app(ctx, tenant, f"svc-{i:02d}", client_name=f"Service {29 - i:02d}")
    await app(ctx, tenant, "billing", client_name="Zahlungen")
    username = await person(ctx, tenant, ["admin"])
    base = f"/t/{tenant}/admin/{tenant}/applications"
    first = await open_console(client, tenant, username)
    assert len(ROW.findall(first.text)) == 25  # 25 a page
    by_name = await client.get(base, params={"q": "SERVICE 0"})  # prefix of the name, any case
    assert listed(by_name.text) == [f"svc-{29 - i:02d}" for i in range(10)]
    by_id = await client.get(base, params={"q": "Bill"})  # prefix of the clientId, any case
    assert listed(by_id.text) == ["billing"]
    assert listed((await client.get(base, params={"q": "ahlung"})).text) == []  # prefix, not contains
    newest = await client.get(base, params={"sort": "created"})
    assert listed(newest.text)[0] == "billing"
    # walk every page by clientId: each client once, in order
    seen: list[str] = []
    url: str | None = f"{base}?sort=clientId"
    while url:
        page = await client.get(url)
        seen += listed(page.text)
        match = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == sorted(["billing", *(f"svc-{i:02d}" for i in range(30))])
    # a garbled cursor is the first page, not an error
    assert (await client.get(base, params={"cursor": "not-a-cursor"})).status_code == 200


async def test_bulk_disable_and_delete_go_through_the_services_and_audit(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    for client_id in ("one", "two", "three"):
        await app(ctx, tenant, client_id)
    username = await person(ctx, tenant, ["admin"])
    page = await open_console(client, tenant, username)
    action, fields = form_of(page.text[page.text.index('id="applications"') - 10 :])
    assert action == f"/t/{tenant}/admin/{tenant}/applications/bulk"
    base = {"csrf_token": fields["csrf_token"], "back": fields["back"]}
    done = await client.post(action, data={**base, "action": "disable", "client_id": ["one", "two"]})
    assert done.status_code == 303 and "changed=2" in done.headers["location"]
    after = await client.get(done.headers["location"])
    assert "2 applications changed." in after.text
    users = await user_service.list_users(ctx, SYSTEM_PRINCIPAL, tenant, cursor=None, limit=50)
    user_id = next(str(u.id) for u in users.items if u.username == username)
    [event] = await audit_events(ctx, "client.updated", "one")
    assert event.actor == f"user:{user_id}" and event.changes == {"enabled": {"from": True, "to": False}}

    confirm = await client.post(action, data={**base, "action": "delete", "client_id": ["three"]})
    assert confirm.status_code == 200 and "Delete 1 application?" in confirm.text
    assert (await client_service.get_client(ctx, SYSTEM_PRINCIPAL, tenant, "three")).client_id == "three"
    confirm_action, confirm_fields = form_of(confirm.text[confirm.text.index("delete-confirmed") - 400 :])
    gone = await client.post(
        confirm_action, data={**base, "action": "delete-confirmed", "client_id": "three"}
    )
    assert gone.status_code == 303
    assert await audit_events(ctx, "client.deleted", "three")
    assert "three" not in listed((await client.get(gone.headers["location"])).text)
    del confirm_fields


async def test_bulk_refusals_change_nothing(ctx: Context, client: httpx.AsyncClient, tenant: str) -> None:
    await app(ctx, tenant, "kept")
    username = await person(ctx, tenant, ["admin"])
    page = await open_console(client, tenant, username)
    action, fields = form_of(page.text[page.text.index('id="applications"') - 10 :])
    before = await snapshot(ctx)
    # no CSRF token, a forged one, a foreign origin's form: refused
    for data in (
        {"action": "disable", "client_id": "kept"},
        {"action": "disable", "client_id": "kept", "csrf_token": "x"},
    ):
        assert (await client.post(action, data=data)).status_code == 403
    # the built-in clients cannot be deleted: the service's refusal becomes the page's message
    refused = await client.post(
        action,
        data={
            "csrf_token": fields["csrf_token"],
            "back": fields["back"],
            "action": "delete-confirmed",
            "client_id": ADMIN.client_id,
        },
    )
    assert refused.status_code == 303 and "problem=" in refused.headers["location"]
    assert "built-in console client" in (await client.get(refused.headers["location"])).text
    # nothing ticked
    empty = await client.post(action, data={"csrf_token": fields["csrf_token"], "action": "disable"})
    assert empty.status_code == 303 and "problem=" in empty.headers["location"]
    # not a form
    assert (
        await client.post(action, content=b"{}", headers={"content-type": "application/json"})
    ).status_code == 400
    assert await snapshot(ctx) == before
    assert set(BUILTIN_CLIENT_IDS) <= set(
        re.findall(r"pforte-[a-z-]+", (await client.get(fields["back"])).text)
    )
