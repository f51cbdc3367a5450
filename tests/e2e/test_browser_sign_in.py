"""The sign-in and consent pages in headless Chromium against a real ``pforte serve``: a person
signs in with the keyboard, consents, and the application receives its code; the pages are
photographed (tests/e2e/artifacts/) in English and German."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.apps import admin_http, authorize_url, create_client, create_tenant, create_user
from tests.e2e.browser import ARTIFACTS
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

SLUG = "browser"
REDIRECT = "https://app.example.com/cb"
USERNAME, PASSWORD = "grace", "a long enough password"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.fixture(scope="module")
def app_ready(server: Server) -> str:
    with admin_http(server) as admin:
        create_tenant(admin, SLUG, "Beispiel AG")
        create_client(
            admin,
            SLUG,
            "spa",
            clientName="Beispiel Portal",
            requireClientSecret=False,
            allowedGrantTypes=["authorization_code"],
            allowedScopes=["openid", "profile", "email"],
            redirectUris=[REDIRECT],
            requireConsent=True,
        )
    create_user(server, SLUG, USERNAME, PASSWORD)
    return server.url


def page_url(base: str, redirect_uri: str = REDIRECT) -> str:
    return authorize_url(base, SLUG, "spa", redirect_uri, CHALLENGE, state="s-browser")


def test_a_person_signs_in_with_the_keyboard_and_consents(chromium: Any, app_ready: str) -> None:
    context = chromium.new_context(locale="en-GB", viewport={"width": 900, "height": 760})
    page = context.new_page()
    redirected: list[str] = []
    # the application's address does not exist here: note the browser's request to it
    page.on("request", lambda r: redirected.append(r.url) if r.url.startswith(REDIRECT) else None)
    page.goto(page_url(app_ready))
    assert page.title() != ""
    assert page.locator("html").get_attribute("lang") == "en"
    page.screenshot(path=str(ARTIFACTS / "sign-in-en.png"), full_page=True)
    # keyboard only: the username field has focus, Tab to the password, Enter submits
    assert page.evaluate("document.activeElement.name") == "username"
    page.keyboard.type(USERNAME)
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    assert alert.inner_text().strip() == "Invalid username or password."
    page.screenshot(path=str(ARTIFACTS / "sign-in-error-en.png"), full_page=True)
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "wants to access your account" in page.content()
    page.screenshot(path=str(ARTIFACTS / "consent-en.png"), full_page=True)
    try:
        page.get_by_role("button", name="Allow").click()
        for _ in range(100):  # the browser follows the 303 to the application (a busy machine: 10 s)
            if redirected:
                break
            page.wait_for_timeout(100)
    except Exception:  # noqa: BLE001 - the aborted navigation to the application may raise
        pass
    assert redirected, "the browser was not sent back to the application"
    query = parse_qs(urlsplit(redirected[0]).query)
    assert query["state"] == ["s-browser"] and query["code"][0]
    context.close()


def test_the_pages_speak_german(chromium: Any, app_ready: str) -> None:
    context = chromium.new_context(locale="de-DE", extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"})
    page = context.new_page()
    page.goto(page_url(app_ready))
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("button", name="Anmelden").is_visible()
    assert "Beispiel Portal" in page.content()
    page.screenshot(path=str(ARTIFACTS / "sign-in-de.png"), full_page=True)
    # an unregistered redirect URI: an error page, never a redirect
    page.goto(page_url(app_ready, "https://evil.example.com/cb"))
    assert urlsplit(page.url).netloc == urlsplit(app_ready).netloc
    page.screenshot(path=str(ARTIFACTS / "error-de.png"), full_page=True)
    context.close()
    assert requests.get(f"{app_ready}/static/pages/pforte.css", timeout=10).status_code == 200
