"""The admin console (DESIGN.md §8) over HTTP against the ASGI app, SQLite and PostgreSQL:
signing in as ``pforte-admin-console``, who may use it, the tenant picker, and the applications
list (search, sort, pages, bulk actions) acting through the same services and audit."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import event

from pforte.domain.clients import ClientSpec
from pforte.domain.consoles import ADMIN, BUILTIN_CLIENT_IDS
from pforte.domain.errors import DomainError
from pforte.domain.users import UserSpec
from pforte.services import clients as client_service
from pforte.services import credentials as credential_service
from pforte.services import roles as role_service
from pforte.services import tenants as tenant_service
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from pforte.web.consoles.messages import MESSAGES
from tests.conftest import PUBLIC_URL, audit_events, make_tenant, snapshot
from tests.protocol.flow import PASSWORD, form_of, query_of
from tests.web.consoles import sign_in_to_console

pytestmark = pytest.mark.anyio

FORM = "application/x-www-form-urlencoded"
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
    # the picker pages through every tenant (the suite's database holds many): find ours
    text, pages = picker.text, 1
    while f'href="/t/system/admin/{other}/applications"' not in text:
        more = re.search(r'<a href="(\?cursor=[^"]+)">', text)
        assert more is not None and pages < 100, "the tenant is on no page of the picker"
        text = (await client.get(f"/t/system/admin/{html.unescape(more.group(1))}")).text
        pages += 1
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
    refused = await post_form(
        client,
        action,
        {
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


# --- connect an application, and its settings -----------------------------------------------------


async def ops_person(ctx: Context, tenant: str, permissions: list[str]) -> str:
    """A person whose one role holds exactly ``permissions``."""
    role = f"ops-{uuid.uuid4().hex[:4]}"
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name=role, description="operators", permissions=permissions
    )
    return await person(ctx, tenant, [role])


def form_fields(page: str, marker: str = 'class="settings"') -> tuple[str, list[tuple[str, str]]]:
    """The settings form as a browser would send it untouched: its action, and its fields
    (inputs with their values, ticked checkboxes, selected options, text areas)."""
    start = page.index(marker)
    form = page[page.rindex("<form", 0, start) : page.index("</form>", start)]
    action = html.unescape(re.search(r'action="([^"]+)"', form).group(1))  # type: ignore[union-attr]
    fields: list[tuple[str, str]] = []
    for tag in re.finditer(r"<input([^>]*)>", form):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', tag.group(1)))
        if "name" not in attrs or "disabled" in tag.group(1).split():
            continue
        if attrs.get("type") == "checkbox" and " checked" not in tag.group(1):
            continue
        fields.append((attrs["name"], html.unescape(attrs.get("value", ""))))
    for area in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        fields.append((area.group(1), html.unescape(area.group(2))))
    for select in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', select.group(2))
        fields.append((select.group(1), chosen.group(1) if chosen else ""))
    return action, fields


async def post_form(http: httpx.AsyncClient, action: str, fields: list[tuple[str, str]]) -> httpx.Response:
    return await http.post(action, content=urlencode(fields), headers={"content-type": FORM})


def replaced(fields: list[tuple[str, str]], **values: str | list[str]) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in fields if k not in values]
    for name, value in values.items():
        kept += [(name, v) for v in ([value] if isinstance(value, str) else value)]
    return kept


async def test_the_catalogue_offers_the_five_kinds(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    page = await client.get(f"/t/{tenant}/admin/{tenant}/applications/new")
    assert page.status_code == 200 and "Connect application" in page.text
    for kind in ("api-client", "web-app", "spa", "native", "api-keys"):
        assert f'href="/t/{tenant}/admin/{tenant}/applications/new/{kind}"' in page.text
    german = await client.get(
        f"/t/{tenant}/admin/{tenant}/applications/new", headers={"Accept-Language": "de"}
    )
    assert "Applikation verbinden" in german.text and "Integration nur mit API-Keys" in german.text


async def test_an_api_client_is_connected_and_its_secret_shown_once(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    username = await ops_person(ctx, tenant, ["clients:read", "clients:write", "events:read"])
    await open_console(client, tenant, username)
    form = await client.get(f"/t/{tenant}/admin/{tenant}/applications/new/api-client")
    assert form.status_code == 200
    # the seed's labels; what the person does not hold cannot be ticked
    assert "Event-API lesen" not in form.text and "Read Event API" in form.text
    assert re.search(r'value="users:read"[^>]*disabled', form.text)
    assert not re.search(r'value="events:read"[^>]*disabled', form.text)
    action, fields = form_fields(form.text)
    fields = replaced(fields, client_id="reports", client_name="Reports", allowed_scopes=["events:read"])
    created = await post_form(client, action, fields)
    assert created.status_code == 201, created.text
    secret = html.unescape(
        re.search(r'id="secret-value" type="password" value="([^"]+)"', created.text).group(1)
    )  # type: ignore[union-attr]
    assert secret.startswith("pfs_") and "You will not see it again" in created.text
    token = await client.post(
        f"/t/{tenant}/token", data={"grant_type": "client_credentials"}, auth=("reports", secret)
    )
    assert token.status_code == 200 and token.json()["scope"] == "events:read"
    page = await client.get(f"/t/{tenant}/admin/{tenant}/applications/reports")
    assert page.status_code == 200 and secret not in page.text and "Reports" in page.text
    [event] = await audit_events(ctx, "client.created", "reports")
    assert event.actor.startswith("user:")


async def test_validation_errors_show_at_the_field_and_store_nothing(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    username = await ops_person(ctx, tenant, ["clients:read", "clients:write"])
    await open_console(client, tenant, username)
    form = await client.get(f"/t/{tenant}/admin/{tenant}/applications/new/web-app")
    action, fields = form_fields(form.text)
    before = await snapshot(ctx)
    bad_uri = await post_form(client, action, replaced(fields, client_id="web", redirect_uris="not a uri"))
    assert bad_uri.status_code == 422
    assert 'id="f-redirect_uris"' in bad_uri.text and 'aria-invalid="true"' in bad_uri.text
    assert 'id="redirect_uris-error"' in bad_uri.text and "not a uri" in bad_uri.text
    bad_number = await post_form(
        client, action, replaced(fields, client_id="web", access_token_lifetime="soon")
    )
    assert bad_number.status_code == 422 and 'id="access_token_lifetime-error"' in bad_number.text
    # a permission the person does not hold, sent by a forged form: refused by the service
    forged_fields = replaced(
        fields, client_id="web", redirect_uris="https://app.example.com/cb", allowed_scopes="users:write"
    )
    forged = await post_form(client, action, forged_fields)
    assert forged.status_code == 403 and "users:write" in forged.text
    taken_fields = replaced(fields, client_id=ADMIN.client_id, redirect_uris="https://app.example.com/cb")
    taken = await post_form(client, action, taken_fields)
    assert taken.status_code == 409 and 'id="client_id-error"' in taken.text
    no_csrf = await post_form(client, action, [(k, v) for k, v in fields if k != "csrf_token"])
    assert no_csrf.status_code == 403
    assert await snapshot(ctx) == before


async def test_settings_are_saved_audited_and_guarded_against_lost_updates(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    await app(ctx, tenant, "crm", client_name="CRM", allowed_scopes=["events:read"])
    username = await person(ctx, tenant, ["admin"])
    await open_console(client, tenant, username)
    page = await client.get(f"/t/{tenant}/admin/{tenant}/applications/crm")
    action, fields = form_fields(page.text)
    # untouched, the form stores what it showed
    same = await post_form(client, action, fields)
    assert same.status_code == 303
    assert await audit_events(ctx, "client.updated", "crm") == []
    saved = await post_form(
        client, action, replaced(replaced(fields, version="2"), client_name="CRM 2", owner="Sales")
    )
    assert saved.status_code == 412  # the version shown was 1; the untouched save kept it at 1
    fresh = await client.get(f"/t/{tenant}/admin/{tenant}/applications/crm")
    action, fields = form_fields(fresh.text)
    saved = await post_form(client, action, replaced(fields, client_name="CRM 2", owner="Sales"))
    assert saved.status_code == 303 and saved.headers["location"].endswith("/applications/crm?saved=1")
    shown = await client.get(saved.headers["location"])
    assert "Saved." in shown.text and 'value="CRM 2"' in shown.text
    [event] = await audit_events(ctx, "client.updated", "crm")
    assert event.changes == {
        "clientName": {"from": "CRM", "to": "CRM 2"},
        "owner": {"from": None, "to": "Sales"},
    }
    # a second browser still holding the old form loses nothing silently
    stale = await post_form(client, action, replaced(fields, client_name="CRM 3"))
    assert stale.status_code == 412 and "Someone else changed this application" in stale.text
    assert (await client_service.get_client(ctx, SYSTEM_PRINCIPAL, tenant, "crm")).spec.client_name == "CRM 2"


# --- the client page's tabs -------------------------------------------------------------------------


async def test_secrets_are_created_shown_once_listed_and_revoked_with_confirmation(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    await app(ctx, tenant, "rotating", allowed_scopes=["events:read"])
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    tab = f"/t/{tenant}/admin/{tenant}/applications/rotating/secrets"
    page = await client.get(tab)
    assert page.status_code == 200 and "Newest" in page.text and "Expires in 18" in page.text
    action, fields = form_fields(page.text, 'name="description"')
    created = await post_form(client, action, replaced(fields, description="rotation 2027"))
    assert created.status_code == 201
    value = html.unescape(
        re.search(r'id="secret-value" type="password" value="([^"]+)"', created.text).group(1)
    )  # type: ignore[union-attr]
    token = await client.post(
        f"/t/{tenant}/token", data={"grant_type": "client_credentials"}, auth=("rotating", value)
    )
    assert token.status_code == 200
    listed = await client.get(tab)
    assert value not in listed.text and "rotation 2027" in listed.text
    assert listed.text.count("Newest") == 1
    # a bad expiry is the service's rule, shown at the field; nothing is stored
    before = await snapshot(ctx)
    bad = await post_form(client, action, replaced(fields, expiration="2020-01-01"))
    assert bad.status_code == 422 and 'id="expiration-error"' in bad.text
    garbage = await post_form(client, action, replaced(fields, expiration="soon"))
    assert garbage.status_code == 422
    assert await snapshot(ctx) == before
    # revoke: asked once more, then done
    secrets = await credential_service.list_secrets(
        ctx, SYSTEM_PRINCIPAL, tenant, "rotating", cursor=None, limit=10
    )
    newest = max(secrets.items, key=lambda s: s.created_at)
    ask = await post_form(
        client,
        f"{tab}/revoke",
        [("csrf_token", dict(fields)["csrf_token"]), ("credential", str(newest.id)), ("label", "x")],
    )
    assert ask.status_code == 200 and "Revoke this secret?" in ask.text
    assert (
        len(
            (
                await credential_service.list_secrets(
                    ctx, SYSTEM_PRINCIPAL, tenant, "rotating", cursor=None, limit=10
                )
            ).items
        )
        == 2
    )
    confirm_action, confirm_fields = form_fields(ask.text, 'name="confirmed"')
    done = await post_form(client, confirm_action, confirm_fields)
    assert done.status_code == 303 and done.headers["location"].endswith("/secrets?revoked=1")
    refused = await client.post(
        f"/t/{tenant}/token", data={"grant_type": "client_credentials"}, auth=("rotating", value)
    )
    assert refused.status_code == 401
    assert await audit_events(ctx, "client_secret.revoked", str(newest.id))


async def test_api_keys_take_a_subset_of_the_clients_permissions(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    await app(
        ctx,
        tenant,
        "integration",
        require_client_secret=False,
        allowed_grant_types=[],
        allowed_scopes=["events:read", "clients:read"],
    )
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    tab = f"/t/{tenant}/admin/{tenant}/applications/integration/api-keys"
    page = await client.get(tab)
    assert page.status_code == 200 and "No API keys." in page.text
    action, fields = form_fields(page.text, 'name="name"')
    created = await post_form(client, action, replaced(fields, name="nightly export", scopes="events:read"))
    assert created.status_code == 201
    value = html.unescape(
        re.search(r'id="secret-value" type="password" value="([^"]+)"', created.text).group(1)
    )  # type: ignore[union-attr]
    assert value.startswith("pfk_")
    allowed = await client.get(
        f"/api/admin/v1/tenants/{tenant}/clients", headers={"Authorization": f"Bearer {value}"}
    )
    assert allowed.status_code == 403  # events:read only: the key does not reach clients:read
    listed = await client.get(tab)
    assert (
        "nightly export" in listed.text
        and value not in listed.text
        and "<code>events:read</code>" in listed.text
    )
    # a scope beyond the client's: the service refuses, nothing stored
    before = await snapshot(ctx)
    beyond = await post_form(client, action, replaced(fields, name="too much", scopes="users:write"))
    assert beyond.status_code == 422
    assert await snapshot(ctx) == before


async def test_the_guide_and_the_activity_tab(ctx: Context, client: httpx.AsyncClient, tenant: str) -> None:
    await app(ctx, tenant, "docs", client_name="Docs", allowed_scopes=["events:read"])
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    base = f"/t/{tenant}/admin/{tenant}/applications/docs"
    guide = await client.get(f"{base}/guide")
    assert guide.status_code == 200
    assert (
        f'<code id="g-token" aria-labelledby="g-token-label">{PUBLIC_URL}/t/{tenant}/token</code>'
        in guide.text
    )
    assert f"{PUBLIC_URL}/t/{tenant}/.well-known/openid-configuration" in guide.text
    assert "curl" in guide.text and 'data-copy="g-curl"' in guide.text
    assert "Created by system:pforte at" in guide.text  # the client.created event's actor
    # events:read opens the Event and the Metric API: a pre-filled console link each
    token_url = urlencode({"clientId": "docs", "tokenUrl": f"{PUBLIC_URL}/t/{tenant}/token"})
    for name in ("event/v1", "metric/v1"):
        link = html.escape(f"{PUBLIC_URL}/api/docs?urls.primaryName={name}#{token_url}")
        assert f'<a href="{link}" data-api="{name}">' in guide.text
    assert 'data-api="user/v1"' not in guide.text
    page = await client.get(base)
    action, fields = form_fields(page.text)
    assert (await post_form(client, action, replaced(fields, client_name="Docs v2"))).status_code == 303
    activity = await client.get(f"{base}/activity")
    assert activity.status_code == 200
    assert activity.text.index("client.updated") < activity.text.index("client.created")  # newest first
    assert (
        '<code>clientName</code></th><td><code>"Docs"</code></td><td><code>"Docs v2"</code>' in activity.text
    )
    assert "client_secret.created" in activity.text


# --- users, roles, events -----------------------------------------------------------------------------


async def test_users_are_created_disabled_given_roles_and_deleted(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name="support", description=None, permissions=["users:read"]
    )
    admin_name = await person(ctx, tenant, ["admin"])
    await open_console(client, tenant, admin_name)
    base = f"/t/{tenant}/admin/{tenant}/users"
    page = await client.get(base)
    assert page.status_code == 200 and admin_name in page.text
    action, fields = form_fields(page.text, 'name="username"')
    created = await post_form(
        client,
        action,
        replaced(fields, username="Grace", email="grace@example.com", password=PASSWORD, roles="support"),
    )
    assert created.status_code == 303
    user_url = created.headers["location"]
    shown = await client.get(user_url)
    assert shown.status_code == 200 and "grace@example.com" in shown.text
    grace = await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, "grace")
    assert grace.roles == ("support",) and grace.enabled
    [event] = await audit_events(ctx, "user.created", str(grace.id))
    assert event.actor.startswith("user:")
    # a second user of that name (any case) is the service's conflict, shown on the page
    again = await post_form(client, action, replaced(fields, username="GRACE"))
    assert again.status_code == 422 and "exists" in again.text
    # disable, roles, password
    csrf = dict(fields)["csrf_token"]
    assert (
        await post_form(client, user_url, [("csrf_token", csrf), ("action", "disable")])
    ).status_code == 303
    assert not (await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, "grace")).enabled
    roles = await post_form(client, user_url, [("csrf_token", csrf), ("action", "roles")])
    assert roles.status_code == 303
    assert (await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, "grace")).roles == ()
    assert not (await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, "grace")).must_change_password
    password = [("csrf_token", csrf), ("action", "password"), ("password", "a fresh passphrase")]
    assert (await post_form(client, user_url, [*password, ("must_change", "yes")])).status_code == 303
    assert (await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, "grace")).must_change_password
    assert "a new one is asked for at the next sign-in" in (await client.get(user_url)).text
    assert (await post_form(client, user_url, password)).status_code == 303
    assert not (await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, "grace")).must_change_password
    # delete: asked once more
    ask = await post_form(client, user_url, [("csrf_token", csrf), ("action", "delete"), ("label", "Grace")])
    assert ask.status_code == 200 and "Delete this user?" in ask.text
    assert (await user_service.get_user(ctx, SYSTEM_PRINCIPAL, tenant, "grace")).username == "Grace"
    gone = await post_form(client, user_url, [("csrf_token", csrf), ("action", "delete-confirmed")])
    assert gone.status_code == 303 and gone.headers["location"] == base
    assert await audit_events(ctx, "user.deleted", str(grace.id))


async def test_the_users_list_searches(ctx: Context, client: httpx.AsyncClient, tenant: str) -> None:
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    for username, family in (("ada", "Lovelace"), ("alan", "Turing"), ("grace", "Hopper")):
        spec = UserSpec(username=username, family_name=family)
        await user_service.create_user(ctx, SYSTEM_PRINCIPAL, tenant, spec)
    base = f"/t/{tenant}/admin/{tenant}/users"
    found = await client.get(base, params={"q": "TUR"})
    assert found.status_code == 200
    assert 'value="TUR"' in found.text
    assert ">alan</a>" in found.text and ">ada</a>" not in found.text and ">grace</a>" not in found.text
    everyone = await client.get(base)
    assert all(f">{u}</a>" in everyone.text for u in ("ada", "alan", "grace"))


async def test_a_person_without_users_write_cannot_create_users(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    username = await ops_person(ctx, tenant, ["users:read", "clients:read"])
    await open_console(client, tenant, username)
    base = f"/t/{tenant}/admin/{tenant}/users"
    page = await client.get(base)
    action, fields = form_fields(page.text, 'name="username"')
    before = await snapshot(ctx)
    refused = await post_form(client, action, replaced(fields, username="mallory"))
    assert refused.status_code == 422 and "users:write" in refused.text
    assert await snapshot(ctx) == before


async def test_roles_and_events(ctx: Context, client: httpx.AsyncClient, tenant: str) -> None:
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    base = f"/t/{tenant}/admin/{tenant}/roles"
    page = await client.get(base)
    assert page.status_code == 200 and "admin" in page.text
    action, fields = form_fields(page.text, 'name="action" value="create"')
    made = await post_form(client, action, replaced(fields, name="auditor", permissions="events:read"))
    assert made.status_code == 303
    [role] = [r for r in await role_service.list_roles(ctx, SYSTEM_PRINCIPAL, tenant) if r.name == "auditor"]
    assert role.permissions == ("events:read",)
    csrf = dict(fields)["csrf_token"]
    ask = await post_form(client, base, [("csrf_token", csrf), ("action", "delete"), ("name", "auditor")])
    assert ask.status_code == 200 and "Delete this role?" in ask.text
    done = await post_form(
        client, base, [("csrf_token", csrf), ("action", "delete-confirmed"), ("name", "auditor")]
    )
    assert done.status_code == 303
    assert "auditor" not in [r.name for r in await role_service.list_roles(ctx, SYSTEM_PRINCIPAL, tenant)]
    builtin = await post_form(
        client, base, [("csrf_token", csrf), ("action", "delete-confirmed"), ("name", "admin")]
    )
    assert builtin.status_code == 422 and "admin" in builtin.text
    events = await client.get(f"/t/{tenant}/admin/{tenant}/events", params={"type": "role."})
    assert events.status_code == 200
    assert "<code>role.deleted</code>" in events.text and "<code>role.created</code>" in events.text
    assert "<code>user.signed_in</code>" not in events.text
    everything = await client.get(f"/t/{tenant}/admin/{tenant}/events")
    assert "<code>user.signed_in</code>" in everything.text


async def test_the_operator_creates_renames_and_deletes_tenants(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    await open_console(client, "system", await person(ctx, "system", ["admin"]))
    base = "/t/system/admin/tenants"
    page = await client.get(base)
    assert page.status_code == 200
    action, fields = form_fields(page.text, 'name="action" value="create"')
    slug = f"beta-{uuid.uuid4().hex[:6]}"
    assert (
        await post_form(client, action, replaced(fields, slug=slug, display_name="Beta AG"))
    ).status_code == 303
    created = await tenant_service.get_tenant(ctx, SYSTEM_PRINCIPAL, slug)
    assert created.display_name == "Beta AG"
    csrf = dict(fields)["csrf_token"]
    renamed = await post_form(
        client,
        base,
        [("csrf_token", csrf), ("action", "rename"), ("slug", slug), ("display_name", "Beta GmbH")],
    )
    assert renamed.status_code == 303
    assert (await tenant_service.get_tenant(ctx, SYSTEM_PRINCIPAL, slug)).display_name == "Beta GmbH"
    wrong = await post_form(
        client, base, [("csrf_token", csrf), ("action", "delete"), ("slug", slug), ("confirm_slug", "beta")]
    )
    assert wrong.status_code == 422
    assert (await tenant_service.get_tenant(ctx, SYSTEM_PRINCIPAL, slug)).slug == slug
    system = await post_form(
        client,
        base,
        [("csrf_token", csrf), ("action", "delete"), ("slug", "system"), ("confirm_slug", "system")],
    )
    assert system.status_code == 422 and "cannot be deleted" in system.text
    done = await post_form(
        client, base, [("csrf_token", csrf), ("action", "delete"), ("slug", slug), ("confirm_slug", slug)]
    )
    assert done.status_code == 303
    with pytest.raises(DomainError):
        await tenant_service.get_tenant(ctx, SYSTEM_PRINCIPAL, slug)


async def test_a_tenant_admin_has_no_tenants_page(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    assert (await client.get(f"/t/{tenant}/admin/tenants")).status_code == 403


@contextmanager
def statements(ctx: Context) -> Iterator[list[str]]:
    """The SQL statements the app runs meanwhile."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    engine = ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_a_client_page_costs_the_same_queries_whatever_its_counts(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    """Keycloak's console made 150 requests for one user's roles with 75 clients: here each page
    is one request and a fixed number of statements, however many secrets, keys or roles."""
    await app(ctx, tenant, "small", allowed_scopes=["events:read"])
    await app(ctx, tenant, "big", allowed_scopes=["events:read"])
    for i in range(8):
        await credential_service.create_secret(
            ctx, SYSTEM_PRINCIPAL, tenant, "big", credential_service.SecretRequest(description=f"s{i}")
        )
        await credential_service.create_api_key(
            ctx, SYSTEM_PRINCIPAL, tenant, "big", credential_service.ApiKeyRequest(name=f"k{i}")
        )
        await role_service.create_role(
            ctx, SYSTEM_PRINCIPAL, tenant, name=f"role-{i}", description=None, permissions=[]
        )
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    for tab in ("", "/secrets", "/api-keys", "/guide", "/activity"):
        counts = []
        for client_id in ("small", "big"):
            with statements(ctx) as seen:
                page = await client.get(f"/t/{tenant}/admin/{tenant}/applications/{client_id}{tab}")
            assert page.status_code == 200, page.text
            counts.append(len(seen))
        assert counts[0] == counts[1] and counts[0] <= 12, (tab, counts)


async def test_client_roles_are_created_and_deleted(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    await app(ctx, tenant, "wiki", require_client_secret=False, allowed_grant_types=[])
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    tab = f"/t/{tenant}/admin/{tenant}/applications/wiki/roles"
    page = await client.get(tab)
    assert page.status_code == 200 and "No roles." in page.text
    action, fields = form_fields(page.text, 'name="action" value="create"')
    assert (
        await post_form(client, action, replaced(fields, name="editor", description="edits pages"))
    ).status_code == 303
    assert [r.name for r in await role_service.list_client_roles(ctx, SYSTEM_PRINCIPAL, tenant, "wiki")] == [
        "editor"
    ]
    again = await post_form(client, action, replaced(fields, name="editor"))
    assert again.status_code == 422 and "has a role named" in again.text
    csrf = dict(fields)["csrf_token"]
    assert (
        await post_form(client, tab, [("csrf_token", csrf), ("action", "delete"), ("name", "editor")])
    ).status_code == 303
    assert await role_service.list_client_roles(ctx, SYSTEM_PRINCIPAL, tenant, "wiki") == []


async def test_the_language_switch_is_kept_across_pages(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    base = f"/t/{tenant}/admin/{tenant}"
    switched = await client.get(
        f"{base}/applications", params={"ui_locales": "de"}, headers={"Accept-Language": "en"}
    )
    assert "Applikationen" in switched.text and "pforte_locale=de" in switched.headers["set-cookie"]
    later = await client.get(f"{base}/users", headers={"Accept-Language": "en"})
    assert '<html lang="de">' in later.text and "Benutzer" in later.text
    back = await client.get(f"{base}/users", params={"ui_locales": "en"}, headers={"Accept-Language": "de"})
    assert '<html lang="en">' in back.text
    assert '<html lang="en">' in (await client.get(f"{base}/roles", headers={"Accept-Language": "de"})).text


async def test_a_link_cannot_put_words_into_the_console(
    ctx: Context, client: httpx.AsyncClient, tenant: str
) -> None:
    """Messages carried across a redirect are sealed; a crafted ?problem= shows nothing."""
    await open_console(client, tenant, await person(ctx, tenant, ["admin"]))
    for path in ("applications", "users"):
        page = await client.get(
            f"/t/{tenant}/admin/{tenant}/{path}", params={"problem": "Call +1-555-SCAM now"}
        )
        assert page.status_code == 200 and "SCAM" not in page.text
