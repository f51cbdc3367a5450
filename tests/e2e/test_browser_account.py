"""The account console in headless Chromium against a real ``pforte serve``: a person opens
``/t/{slug}/account/``, signs in through the tenant's own sign-in page, sees the applications
they granted access, removes one, and signs out. Screenshots in tests/e2e/artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.apps import admin_http, authorize_url, create_client, create_tenant, create_user
from tests.e2e.browser import ARTIFACTS, focused_name, serious_violations
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

SLUG = "konto"
REDIRECT = "https://calendar.example.com/cb"
USERNAME, PASSWORD = "lovelace", "a long enough password"


@pytest.fixture(scope="module")
def console_ready(server: Server) -> str:
    with admin_http(server) as admin:
        create_tenant(admin, SLUG, "Beispiel AG")
        create_client(
            admin,
            SLUG,
            "calendar",
            clientName="Kalender",
            description="Termine und Räume",
            requireClientSecret=False,
            allowedGrantTypes=["authorization_code"],
            allowedScopes=["openid", "profile", "email"],
            redirectUris=[REDIRECT],
            requireConsent=True,
        )
        create_client(
            admin,
            SLUG,
            "wiki",
            clientName="Wiki",
            allowedGrantTypes=["client_credentials"],
            showInAccountConsole=True,
        )
    create_user(server, SLUG, USERNAME, PASSWORD, email="ada@example.com")
    return server.url


def grant_calendar(page: Any, base: str) -> None:
    """Sign in to the calendar app and allow it, remembered (the app's address does not exist
    here: the navigation to it is aborted, the consent is stored by then)."""
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    page.goto(authorize_url(base, SLUG, "calendar", REDIRECT, challenge, state="s", scope="openid profile"))
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.get_by_label("Remember this decision").check()
    page.route(f"{REDIRECT}**", lambda route: route.fulfill(status=200, body="the calendar"))
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{REDIRECT}**")


def test_a_person_reviews_and_removes_an_applications_access(chromium: Any, console_ready: str) -> None:
    context = chromium.new_context(locale="en-GB", viewport={"width": 900, "height": 900}, bypass_csp=True)
    page = context.new_page()
    grant_calendar(page, console_ready)
    # single sign-on: the console opens without asking again
    page.goto(f"{console_ready}/t/{SLUG}/account/")
    page.wait_for_load_state()
    assert page.url == f"{console_ready}/t/{SLUG}/account/"
    assert page.get_by_role("heading", name="Applications").is_visible()
    assert "ada@example.com" in page.content()
    calendar = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Kalender"))
    assert "Termine und Räume" in calendar.inner_text()
    assert "profile" in calendar.inner_text()
    wiki = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Wiki"))
    assert "You have not granted this application access." in wiki.inner_text()
    assert "pforte-admin-console" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "account-en.png"), full_page=True)
    assert serious_violations(page) == []

    calendar.get_by_role("button", name="Remove access").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().startswith("Access removed.")
    assert page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Kalender")).count() == 0
    page.screenshot(path=str(ARTIFACTS / "account-removed-en.png"), full_page=True)
    assert serious_violations(page) == []

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="You are signed out").is_visible()
    # signed out: the console asks for a sign-in again
    page.goto(f"{console_ready}/t/{SLUG}/account/")
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Sign in").is_visible()
    context.close()


def test_the_account_console_in_german_with_the_keyboard(chromium: Any, console_ready: str) -> None:
    context = chromium.new_context(
        locale="de-DE", extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"}, bypass_csp=True
    )
    page = context.new_page()
    page.goto(f"{console_ready}/t/{SLUG}/account/")
    page.wait_for_load_state()
    assert focused_name(page, "username") == "username"
    page.keyboard.type(USERNAME)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{console_ready}/t/{SLUG}/account/")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", name="Applikationen").is_visible()
    assert page.get_by_role("button", name="Abmelden").is_visible()
    page.screenshot(path=str(ARTIFACTS / "account-de.png"), full_page=True)
    assert serious_violations(page) == []
    context.close()
