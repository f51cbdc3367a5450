"""The seed stories, end to end, in headless Chromium against a real ``pforte serve``, in English
and German: every page they pass is photographed (tests/e2e/artifacts/stories-*) and checked by
axe-core (vendored, tests/e2e/vendor/) for serious or critical accessibility violations.

1. Bare.ID: the console admin connects an "API client" with "Event-API lesen" and "User-API
   lesen", copies the secret shown once, opens the configuration guide; outside the browser the
   client gets a token with that secret and calls the admin API with it.
2. awork: a web application with a redirect URL; its secret copied; an API key added and copied;
   the key used on the admin API.
3. Vantage: a second secret with a description and a 30-day window; the first revoked; the list
   shows only ``valueDisplay``.
(The account console's story is tests/e2e/test_browser_account.py.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from pforte.web.consoles.messages import MESSAGES as CONSOLE
from pforte.web.pages.messages import MESSAGES as PAGES
from tests.e2e.apps import admin_http, create_tenant
from tests.e2e.browser import ARTIFACTS, serious_violations
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


class Story:
    """A browser in one language, photographing and checking every page it passes."""

    def __init__(self, chromium: Any, base: str, locale: str, name: str) -> None:
        # bypass_csp: axe is injected as a script; the console's CSP is tested without it elsewhere
        self.context = chromium.new_context(
            locale="de-DE" if locale == "de" else "en-GB",
            extra_http_headers={"Accept-Language": "de-DE,de;q=0.9" if locale == "de" else "en-GB,en;q=0.9"},
            viewport={"width": 1200, "height": 900},
            bypass_csp=True,
        )
        self.context.grant_permissions(["clipboard-read", "clipboard-write"])
        self.page = self.context.new_page()
        self.base, self.locale, self.name, self.step = base, locale, name, 0

    def t(self, key: str) -> str:
        return CONSOLE[self.locale][key]

    def p(self, key: str) -> str:
        return PAGES[self.locale][key]

    def checked(self, what: str) -> None:
        """Photograph the page and fail on a serious accessibility violation."""
        self.page.wait_for_load_state()
        self.step += 1
        self.page.screenshot(
            path=str(ARTIFACTS / f"stories-{self.name}-{self.locale}-{self.step:02d}-{what}.png"),
            full_page=True,
        )
        violations = serious_violations(self.page)
        assert violations == [], f"{what}: {violations}"

    def copied(self, button: str) -> str:
        self.page.get_by_role("button", name=self.t("copy")).click()
        for _ in range(100):
            if self.page.locator(f"#{button}-status").inner_text() == self.t("copied"):
                break
            self.page.wait_for_timeout(50)
        value: str = self.page.evaluate("navigator.clipboard.readText()")
        return value

    def sign_in(self, username: str, password: str) -> None:
        self.checked("sign-in")
        self.page.get_by_label(self.p("sign_in.username")).fill(username)
        self.page.get_by_label(self.p("sign_in.password")).fill(password)
        self.page.get_by_role("button", name=self.p("sign_in.submit")).click()
        self.page.wait_for_load_state()

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def stories_ready(server: Server) -> str:
    with admin_http(server) as admin:
        for locale in ("en", "de"):
            create_tenant(admin, f"bareid-{locale}", "Bare.ID Kunde")
            create_tenant(admin, f"awork-{locale}", "awork Kunde")
    return server.url


def token(base: str, slug: str, client_id: str, secret: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{base}/t/{slug}/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize("locale", ["en", "de"])
def test_bareid_an_api_client_with_event_and_user_api(
    chromium: Any, stories_ready: str, server: Server, locale: str
) -> None:
    base, slug = stories_ready, f"bareid-{locale}"
    story = Story(chromium, base, locale, "bareid")
    page = story.page
    banner = server.banner()
    page.goto(f"{base}/admin/")
    story.sign_in(banner.admin_username, banner.admin_password)
    page.get_by_role("heading", name=story.t("tenants.pick")).wait_for()
    story.checked("tenant-picker")
    page.locator(f'a[href$="/{slug}/applications"]').click()
    story.checked("applications")
    page.get_by_role("link", name=story.t("apps.connect")).click()
    story.checked("catalogue")
    page.get_by_role("link", name=story.t("kind.api-client")).click()
    story.checked("new-api-client")
    page.get_by_label(story.t("field.client_id")).fill("reporting")
    page.get_by_label(story.t("field.description")).fill("Nightly reports")
    page.get_by_label(story.t("field.owner")).fill("Team Data")
    event_api = "Event-API lesen" if locale == "de" else "Read Event API"
    user_api = "User-API lesen" if locale == "de" else "Read User API"
    page.get_by_label(event_api).check()
    page.get_by_label(user_api).check()
    page.get_by_role("button", name=story.t("form.create")).click()
    page.get_by_role("heading", name=story.t("created.title")).wait_for()
    story.checked("secret-once")
    secret = story.copied("secret-value")
    assert secret.startswith("pfs_") and secret == secret.strip()
    page.get_by_role("link", name=story.t("created.continue")).click()
    page.get_by_role("link", name=story.t("tab.guide")).click()
    assert f"{base}/t/{slug}/token" in page.content()
    story.checked("guide")
    story.close()
    # outside the browser: the copied secret gets a token, and the admin API knows the token
    issued = token(base, slug, "reporting", secret)
    assert sorted(issued["scope"].split()) == ["events:read", "users:read"]
    called = httpx.get(
        f"{base}/api/admin/v1/tenants/{slug}/clients",
        headers={"Authorization": f"Bearer {issued['access_token']}"},
        timeout=10,
    )
    # authenticated, and held to its permissions: the client API needs clients:read
    assert called.status_code == 403 and "insufficient_scope" in called.headers["www-authenticate"]


@pytest.mark.parametrize("locale", ["en", "de"])
def test_awork_and_vantage_a_web_app_its_api_key_and_secret_rotation(
    chromium: Any, stories_ready: str, server: Server, locale: str
) -> None:
    base, slug = stories_ready, f"awork-{locale}"
    story = Story(chromium, base, locale, "awork")
    page = story.page
    banner = server.banner()
    page.goto(f"{base}/t/system/admin/{slug}/applications")
    story.sign_in(banner.admin_username, banner.admin_password)
    page.goto(f"{base}/t/system/admin/{slug}/applications/new/web-app")
    story.checked("new-web-app")
    page.get_by_label(story.t("field.client_id")).fill("awork-web")
    page.get_by_label(story.t("field.redirect_uris"), exact=True).fill("https://app.awork.example/callback")
    page.locator('input[name=allowed_scopes][value="clients:read"]').check()
    page.get_by_role("button", name=story.t("form.create")).click()
    page.get_by_role("heading", name=story.t("created.title")).wait_for()
    first_secret = story.copied("secret-value")
    assert first_secret.startswith("pfs_")
    page.get_by_role("link", name=story.t("created.continue")).click()
    story.checked("web-app")

    # awork: "API-Key verwalten"
    page.get_by_role("link", name=story.t("tab.api-keys")).click()
    story.checked("api-keys")
    page.get_by_label(story.t("keys.name"), exact=True).fill("integration")
    page.get_by_label(re.compile("clients:read")).check()
    page.get_by_role("button", name=story.t("keys.create")).click()
    page.get_by_role("heading", name=story.t("api-keys.created")).wait_for()
    story.checked("api-key-once")
    key = story.copied("secret-value")
    assert key.startswith("pfk_")
    listed = httpx.get(
        f"{base}/api/admin/v1/tenants/{slug}/clients", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert listed.status_code == 200 and "awork-web" in [c["clientId"] for c in listed.json()["items"]]

    # Vantage: a second secret with a description and a 30-day window, then the first revoked
    page.get_by_role("link", name=story.t("created.continue")).click()
    page.get_by_role("link", name=story.t("tab.secrets")).click()
    story.checked("secrets")
    today = datetime.now(UTC).date()
    page.get_by_label(story.t("secrets.description"), exact=True).fill("rotation 2027")
    page.get_by_label(story.t("secrets.start")).fill(today.isoformat())
    page.get_by_label(story.t("secrets.expiration")).fill((today + timedelta(days=30)).isoformat())
    page.get_by_role("button", name=story.t("secrets.create")).click()
    page.get_by_role("heading", name=story.t("secrets.created")).wait_for()
    second_secret = story.copied("secret-value")
    page.get_by_role("link", name=story.t("created.continue")).click()
    first_row = page.get_by_role("row").filter(has_text=first_secret[:7]).filter(has_not_text="rotation 2027")
    first_row.get_by_role("button", name=story.t("credentials.revoke")).click()
    page.get_by_role("heading", name=story.t("secrets.revoke.title")).wait_for()
    story.checked("revoke-confirm")
    page.get_by_role("button", name=story.t("credentials.revoke")).click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == story.t("secrets.revoked")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1 and "rotation 2027" in rows.inner_text()
    content = page.content()
    assert first_secret not in content and second_secret not in content
    assert second_secret[:7] + "…" in content  # only valueDisplay
    story.checked("secrets-rotated")
    story.close()
    # the first secret no longer authenticates; the second does (the web app may not use the
    # client credentials grant, so it gets unauthorized_client, not invalid_client)
    for secret, status, error in (
        (first_secret, 401, "invalid_client"),
        (second_secret, 400, "unauthorized_client"),
    ):
        answer = httpx.post(
            f"{base}/t/{slug}/token",
            data={"grant_type": "client_credentials"},
            auth=("awork-web", secret),
            timeout=10,
        )
        assert (answer.status_code, answer.json()["error"]) == (status, error)
