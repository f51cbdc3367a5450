"""The sign-in and consent pages in headless Chromium against a real ``pforte serve``: a person
signs in with the keyboard, consents, and the application receives its code; a person whose
administrator set ``mustChangePassword`` chooses a new password first; the pages are
photographed (tests/e2e/artifacts/) in English and German and checked with axe-core."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.apps import admin_http, authorize_url, create_client, create_tenant, create_user
from tests.e2e.browser import ARTIFACTS, focused_name, serious_violations
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

SLUG = "browser"
REDIRECT = "https://app.example.com/cb"
USERNAME, PASSWORD = "grace", "a long enough password"
TEMPORARY, CHOSEN = "temporary from the admin", "my own new passphrase"
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
    assert focused_name(page, "username") == "username"
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


def create_flagged_user(server: Server, username: str) -> None:
    """A user an administrator created through the User API with a password to be changed."""
    with admin_http(server) as admin:
        body = {"username": username, "password": TEMPORARY, "mustChangePassword": True}
        created = admin.post(f"/api/users/v1/tenants/{SLUG}/users", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["mustChangePassword"] is True


def sign_in_as(page: Any, base: str, username: str, password: str, *, german: bool = False) -> None:
    """Open the application's sign-in page and sign in with the mouse."""
    labels = ("Benutzername", "Passwort", "Anmelden") if german else ("Username", "Password", "Sign in")
    page.goto(page_url(base))
    page.get_by_label(labels[0]).fill(username)
    page.get_by_label(labels[1]).fill(password)
    page.get_by_role("button", name=labels[2]).click()
    page.wait_for_load_state()


def test_a_person_told_to_change_their_password_chooses_a_new_one(
    chromium: Any, app_ready: str, server: Server
) -> None:
    create_flagged_user(server, "hedy")
    # bypass_csp: axe is injected as a script; the pages' CSP is tested without it elsewhere
    context = chromium.new_context(locale="en-GB", viewport={"width": 900, "height": 820}, bypass_csp=True)
    page = context.new_page()
    sign_in_as(page, app_ready, "hedy", TEMPORARY)
    assert page.get_by_role("heading", name="Choose a new password").is_visible()
    assert (
        "You are signing in as hedy. Choose a new password to continue to Beispiel Portal." in page.content()
    )
    assert not [c for c in context.cookies() if c["name"] == "pforte_session"]
    assert serious_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "password-change-en.png"), full_page=True)
    # keyboard only: the new password has focus, Tab to the repeat, Enter submits
    assert focused_name(page, "new_password") == "new_password"
    page.keyboard.type(CHOSEN)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "new_password_repeat"
    page.keyboard.type(CHOSEN + " but typed differently")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.get_by_role("alert").inner_text().strip() == "The two new passwords are not the same."
    repeat = page.get_by_label("Repeat the new password")
    assert repeat.get_attribute("aria-invalid") == "true"
    assert repeat.get_attribute("aria-describedby") == "password-change-alert"
    assert serious_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "password-change-error-en.png"), full_page=True)
    page.get_by_label("New password", exact=True).fill(CHOSEN)
    repeat.fill(CHOSEN)
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_load_state()
    assert "wants to access your account" in page.content()  # the session started: consent next
    assert [c for c in context.cookies() if c["name"] == "pforte_session"]
    page.route(f"{REDIRECT}**", lambda route: route.fulfill(status=200, body="the portal"))
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{REDIRECT}**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["s-browser"] and query["code"][0]
    context.close()

    # the new password is the one now: a fresh browser goes straight to consent with it
    fresh = chromium.new_context(locale="en-GB")
    again = fresh.new_page()
    sign_in_as(again, app_ready, "hedy", CHOSEN)
    assert "wants to access your account" in again.content()
    fresh.close()


def test_the_new_password_page_speaks_german(chromium: Any, app_ready: str, server: Server) -> None:
    create_flagged_user(server, "lise")
    context = chromium.new_context(
        locale="de-DE", extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"}, bypass_csp=True
    )
    page = context.new_page()
    sign_in_as(page, app_ready, "lise", TEMPORARY, german=True)
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", name="Neues Passwort festlegen").is_visible()
    page.get_by_label("Neues Passwort", exact=True).fill(TEMPORARY)
    page.get_by_label("Neues Passwort wiederholen").fill(TEMPORARY)
    page.get_by_role("button", name="Speichern und fortfahren").click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    assert alert.inner_text().strip() == "Das neue Passwort muss sich von Ihrem bisherigen unterscheiden."
    assert page.get_by_label("Neues Passwort", exact=True).get_attribute("aria-invalid") == "true"
    assert serious_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "password-change-error-de.png"), full_page=True)
    context.close()
