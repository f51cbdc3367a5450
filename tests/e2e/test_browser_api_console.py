"""The API console in headless Chromium against a real ``pforte serve`` (DESIGN.md §7): a client's
configuration guide links to ``/api/docs`` with the User API selected and the client filled in;
typing only the secret, "Authorize" fetches a token at the tenant's token endpoint and
"Try it out" lists the tenant's users with a 200. Screenshots in tests/e2e/artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.apps import admin_http, create_client, create_tenant, create_user
from tests.e2e.browser import ARTIFACTS, serious_violations
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

SLUG = "vantage"


@pytest.fixture(scope="module")
def guide(server: Server) -> dict[str, Any]:
    with admin_http(server) as admin:
        create_tenant(admin, SLUG, "Vantage")
        secret = create_client(admin, SLUG, "reporting", allowedScopes=["users:read"])
        response = admin.get(f"/api/admin/v1/tenants/{SLUG}/clients/reporting/guide")
        assert response.status_code == 200, response.text
    create_user(server, SLUG, "ada", "a long enough password")
    body: dict[str, Any] = response.json()
    body["secret"] = secret
    return body


def test_the_guides_console_link_authorises_and_tries_the_user_api(
    chromium: Any, server: Server, guide: dict[str, Any]
) -> None:
    [users_api] = [a for a in guide["apis"] if a["name"] == "user/v1"]
    link = users_api["console"]
    assert link.startswith(f"{server.url}/api/docs?urls.primaryName=user/v1#clientId=reporting&tokenUrl=")
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    token_requests: list[str] = []
    page.on("request", lambda r: token_requests.append(r.url) if r.url.endswith("/token") else None)

    page.goto(link)
    page.get_by_text("Pforte User API").first.wait_for()
    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".modal-ux")
    dialog.wait_for()
    oauth = dialog.locator(".auth-container").filter(has_text="clientCredentials")
    assert oauth.locator("input#client_id_clientCredentials").input_value() == "reporting"
    oauth.locator("input#client_secret_clientCredentials").fill(guide["secret"])
    page.screenshot(path=str(ARTIFACTS / "api-console-authorize.png"))
    # Swagger UI names its buttons by aria-label: "Apply given OAuth2 credentials" is "Authorize"
    oauth.locator("button.authorize").click()
    oauth.locator("button", has_text="Logout").wait_for()
    assert token_requests == [f"{server.url}/t/{SLUG}/token"]
    dialog.locator("button.close-modal").click()

    operation = page.locator("#operations-users-list_users_tenants__tenant__users_get")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator('input[placeholder="tenant"]').fill(SLUG)
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    body = operation.locator(".live-responses-table tbody .response-col_description pre").first.inner_text()
    assert '"username": "ada"' in body
    page.screenshot(path=str(ARTIFACTS / "api-console-try-it-out.png"), full_page=False)
    assert errors == []
    context.close()


def test_a_link_cannot_send_the_secret_to_another_origin(chromium: Any, server: Server) -> None:
    """A crafted link's tokenUrl elsewhere is ignored: the document's own stays."""
    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(
        f"{server.url}/api/docs?urls.primaryName=user/v1#clientId=x&tokenUrl=https://evil.example/t/a/token"
    )
    page.get_by_text("Pforte User API").first.wait_for()
    page.get_by_role("button", name="Authorize").first.click()
    flow = page.locator(".modal-ux .auth-container").filter(has_text="clientCredentials")
    flow.wait_for()
    assert "evil.example" not in flow.inner_text()
    assert "/t/system/token" in flow.inner_text()
    context.close()


def test_the_console_page_has_no_serious_accessibility_violations(chromium: Any, server: Server) -> None:
    context = chromium.new_context(locale="en-GB", bypass_csp=True)
    page = context.new_page()
    page.goto(f"{server.url}/api/docs?urls.primaryName=user/v1")
    page.get_by_text("Pforte User API").first.wait_for()
    found = serious_violations(page)
    # Swagger UI's own markup (its colours, its unlabelled servers select) is not ours to change;
    # what the page adds around it (language, title, landmarks) must pass.
    swagger_own = ("color-contrast", "nested-interactive", "select-name (critical): #servers")
    assert [v for v in found if not v.startswith(swagger_own)] == [], found
    context.close()
