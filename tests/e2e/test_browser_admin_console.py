"""The admin console in headless Chromium against a real ``pforte serve``: an administrator
signs in through the tenant's own sign-in page, finds an application by typing (htmx), connects
an API client from the catalogue, and copies its secret, shown once. Screenshots in
tests/e2e/artifacts/."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.apps import admin_http, create_client, create_tenant, create_user
from tests.e2e.browser import ARTIFACTS
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

SLUG = "acme"
USERNAME, PASSWORD = "margaret", "a long enough password"


@pytest.fixture(scope="module")
def console_ready(server: Server) -> str:
    with admin_http(server) as admin:
        create_tenant(admin, SLUG, "Acme GmbH")
        for client_id, name, owner in (
            ("billing", "Abrechnung", "Team Finanzen"),
            ("shop", "Webshop", "Team Checkout"),
            ("reports", "Berichte", None),
        ):
            create_client(admin, SLUG, client_id, clientName=name, owner=owner)
    create_user(server, SLUG, USERNAME, PASSWORD, roles=("admin",))
    return server.url


def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll ``check`` (Playwright's wait_for_function evaluates a string: the console's CSP,
    script-src 'self' without 'unsafe-eval', rightly refuses it)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/t/{SLUG}/admin/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/t/{SLUG}/admin/{SLUG}/applications")


def test_an_administrator_finds_and_connects_applications(chromium: Any, console_ready: str) -> None:
    context = chromium.new_context(locale="en-GB", viewport={"width": 1200, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.text} @ {m.location}") if m.type == "error" else None)
    sign_in(page, console_ready)
    page.get_by_role("heading", name="Applications").wait_for()
    assert page.get_by_role("row").filter(has_text="Team Checkout").is_visible()
    page.screenshot(path=str(ARTIFACTS / "admin-applications-en.png"), full_page=True)

    # live filtering: typing narrows the list without a submit (htmx), and the URL follows
    page.get_by_label("Search by name or client ID").fill("web")
    until(lambda: page.locator("#applications tbody tr").count() == 1)
    assert page.get_by_role("row").filter(has_text="Webshop").is_visible()
    assert "q=web" in page.url

    # connect an API client from the catalogue
    page.goto(f"{console_ready}/t/{SLUG}/admin/{SLUG}/applications/new")
    page.screenshot(path=str(ARTIFACTS / "admin-catalogue-en.png"), full_page=True)
    page.get_by_role("link", name="API client").click()
    page.get_by_label("Client ID").fill("metrics-exporter")
    page.get_by_label("Name", exact=True).fill("Metrics exporter")
    page.get_by_label("Read Event API").check()
    page.screenshot(path=str(ARTIFACTS / "admin-new-api-client-en.png"), full_page=True)
    page.get_by_role("button", name="Create application").click()
    page.wait_for_load_state()
    page.get_by_role("heading", name="Application created").wait_for()
    secret = page.get_by_label("Client secret")
    assert secret.get_attribute("type") == "password"
    page.get_by_role("button", name="Show").click()
    assert secret.get_attribute("type") == "text"
    page.get_by_role("button", name="Copy").click()
    until(lambda: page.locator("#secret-value-status").inner_text() == "Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == secret.input_value() and copied.startswith("pfs_") and copied == copied.strip()
    page.screenshot(path=str(ARTIFACTS / "admin-secret-once-en.png"), full_page=True)
    page.get_by_role("link", name="Continue to the application").click()
    page.wait_for_load_state()
    assert page.get_by_label("Read Event API").is_checked()
    page.screenshot(path=str(ARTIFACTS / "admin-client-en.png"), full_page=True)
    assert errors == [], errors  # no CSP violation, no script error
    context.close()


def test_the_console_in_german_and_dark(chromium: Any, console_ready: str) -> None:
    context = chromium.new_context(
        locale="de-DE", color_scheme="dark", extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"}
    )
    page = context.new_page()
    page.goto(f"{console_ready}/t/{SLUG}/admin/")
    page.get_by_label("Benutzername").fill(USERNAME)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{console_ready}/t/{SLUG}/admin/{SLUG}/applications")
    page.get_by_role("heading", name="Applikationen").wait_for()
    assert page.get_by_role("columnheader", name="Verantwortlich").is_visible()
    assert page.get_by_role("columnheader", name="Eingerichtet am").is_visible()
    page.screenshot(path=str(ARTIFACTS / "admin-applications-de-dark.png"), full_page=True)
    context.close()
