"""The sign-in pages (pforte/web/pages): markup, accessibility, escaping, the catalogue, the
locale negotiation and the stylesheet, read back with the standard library's HTML parser."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from pforte.web.pages import CONTEXT, ERROR_TITLE_KEYS, LOCALES, MESSAGES, negotiate_locale, render, translate

CSS = Path(__file__).resolve().parents[2] / "pforte/web/static/pages/pforte.css"
SWITCH = {"en": "/t/acme/authorize?ui_locales=en&state=s1", "de": "/t/acme/authorize?ui_locales=de&state=s1"}
INJECTION = '"><script>alert(1)</script>'
BASE: dict[str, Any] = {"static_base": "/static", "switch_locale_urls": SWITCH, "tenant_name": "Acme GmbH"}
HIDDEN = {"client_id": "shop", "state": "s1", "redirect_uri": "https://shop.example.com/cb?a=1&b=2"}


def sign_in(**changes: Any) -> dict[str, Any]:
    return {
        **BASE,
        "client_name": "Acme Shop",
        "action": "/t/acme/authorize/sign-in",
        "csrf_token": "csrf-123",
        "hidden": HIDDEN,
        "username": "",
        "error": None,
        "retry_after": None,
        **changes,
    }


def password_change(**changes: Any) -> dict[str, Any]:
    return {
        **BASE,
        "client_name": "Acme Shop",
        "action": "/t/acme/password",
        "csrf_token": "csrf-123",
        "hidden": {**HIDDEN, "change": "sealed-token"},
        "username": "Ada.Lovelace",
        "error": None,
        **changes,
    }


def consent(**changes: Any) -> dict[str, Any]:
    return {
        **BASE,
        "client_name": "Acme Shop",
        "action": "/t/acme/authorize/consent",
        "csrf_token": "csrf-123",
        "hidden": HIDDEN,
        "scopes": [("openid", "Sign you in with your account"), ("email", "Your e-mail address")],
        "allow_remember": True,
        **changes,
    }


def error(**changes: Any) -> dict[str, Any]:
    return {**BASE, "status": 400, "title_key": "error.invalid_request", "detail": "", **changes}


def denied(**changes: Any) -> dict[str, Any]:
    return {**BASE, "client_name": "Acme Shop", "continue_url": None, **changes}


PAGES = {
    "sign_in.html": sign_in,
    "password_change.html": password_change,
    "consent.html": consent,
    "error.html": error,
    "denied.html": denied,
}


@dataclass
class Page(HTMLParser):
    """The elements of a rendered page in document order, with their attributes and the text
    inside each (``text`` of an element holds the text of its descendants)."""

    html: str
    elements: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    _open: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.feed(self.html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))
        self.texts.append("")
        if tag not in {"meta", "link", "input", "br", "img", "hr"}:
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        assert self._open and self.elements[self._open[-1]][0] == tag, f"unbalanced </{tag}>"
        self._open.pop()

    def handle_data(self, data: str) -> None:
        for index in self._open:
            self.texts[index] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def text(self, tag: str, **attrs: str) -> list[str]:
        return [
            " ".join(self.texts[i].split())
            for i, (t, a) in enumerate(self.elements)
            if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def page(template: str, locale: str = "en", **changes: Any) -> Page:
    return Page(render(template, locale=locale, **PAGES[template](**changes)))


# every page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", sorted(PAGES))
def test_every_page_has_the_frame(template: str, locale: str) -> None:
    html = render(template, locale=locale, **PAGES[template]())
    doc = Page(html)
    assert html.startswith("<!doctype html>\n")
    assert doc.find("html") == [{"lang": locale}]
    assert doc.find("meta", name="viewport") == [
        {"name": "viewport", "content": "width=device-width, initial-scale=1"}
    ]
    assert doc.find("meta", name="referrer") == [{"name": "referrer", "content": "no-referrer"}]
    assert doc.find("link") == [{"rel": "stylesheet", "href": "/static/pages/pforte.css"}]
    assert doc.text("title")[0].endswith(" – Acme GmbH") and len(doc.text("title")[0]) > len(" – Acme GmbH")
    assert len(doc.find("main")) == 1 and len(doc.find("h1")) == 1
    assert doc.text("header")[0].startswith("Acme GmbH")
    # nothing the Content-Security-Policy would block, and no script of any kind
    assert "<script" not in html and "<style" not in html and "style=" not in html
    assert not [name for _, attrs in doc.elements for name in attrs if name.startswith("on")]
    assert not [a for t, a in doc.elements if t == "a" and a["href"].lower().startswith("javascript:")]
    ids = [a["id"] for _, a in doc.elements if "id" in a]
    assert len(ids) == len(set(ids))
    # every label names a control, every control but hidden ones and buttons has a label
    controls = {a["id"] for t, a in doc.elements if t in {"input", "select", "textarea"} and "id" in a}
    labels = [a["for"] for a in doc.find("label")]
    assert set(labels) == controls and len(labels) == len(controls)
    assert all("id" in a for a in doc.find("input") if a["type"] not in {"hidden"})


@pytest.mark.parametrize("locale", LOCALES)
def test_the_language_switch_links_both_languages_and_marks_the_current_one(locale: str) -> None:
    doc = page("sign_in.html", locale)
    nav = doc.find("nav")
    assert nav == [{"class": "languages", "aria-label": {"en": "Language", "de": "Sprache"}[locale]}]
    links = doc.find("a")
    assert [(a["href"], a["hreflang"], a["lang"]) for a in links] == [
        (SWITCH["en"], "en", "en"),
        (SWITCH["de"], "de", "de"),
    ]
    assert [a.get("aria-current") for a in links] == [
        "true" if locale == "en" else None,
        "true" if locale == "de" else None,
    ]
    assert doc.text("a") == ["English", "Deutsch"]
    assert "ui_locales=en&amp;state=s1" in doc.html  # the URL is escaped in the attribute


def test_a_trailing_slash_on_static_base_does_not_make_a_protocol_relative_url() -> None:
    doc = page("error.html", static_base="/static/")
    assert doc.find("link")[0]["href"] == "/static/pages/pforte.css"


# sign_in.html --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "lead", "labels", "button"),
    [
        ("en", "Sign in to continue to Acme Shop", ["Username", "Password"], "Sign in"),
        ("de", "Melden Sie sich an, um mit Acme Shop fortzufahren", ["Benutzername", "Passwort"], "Anmelden"),
    ],
)
def test_sign_in_form(locale: str, lead: str, labels: list[str], button: str) -> None:
    doc = page("sign_in.html", locale, username="Ada.Lovelace")
    assert doc.text("p", **{"class": "lead"}) == [lead]
    assert doc.find("form") == [{"class": "form", "method": "post", "action": "/t/acme/authorize/sign-in"}]
    names = [a["name"] for a in doc.find("input")]
    assert names == ["csrf_token", *HIDDEN, "username", "password"]
    assert doc.find("input", name="csrf_token") == [
        {"type": "hidden", "name": "csrf_token", "value": "csrf-123"}
    ]
    assert {a["name"]: a["value"] for a in doc.find("input", type="hidden")} == {
        "csrf_token": "csrf-123",
        **HIDDEN,
    }
    assert doc.find("input", name="username") == [
        {
            "id": "username",
            "name": "username",
            "type": "text",
            "value": "Ada.Lovelace",
            "autocomplete": "username",
            "autocapitalize": "none",
            "spellcheck": "false",
            "required": "",
            "autofocus": "",
        }
    ]
    assert doc.find("input", name="password") == [
        {
            "id": "password",
            "name": "password",
            "type": "password",
            "autocomplete": "current-password",
            "required": "",
        }
    ]
    assert doc.text("label") == labels
    assert [a for a in doc.find("label")] == [{"for": "username"}, {"for": "password"}]
    assert doc.find("button") == [{"class": "button primary", "type": "submit"}]
    assert doc.text("button") == [button]
    assert not [a for _, a in doc.elements if "role" in a or "aria-invalid" in a or "aria-describedby" in a]


@pytest.mark.parametrize(
    ("locale", "message"),
    [("en", "Invalid username or password."), ("de", "Benutzername oder Passwort ist falsch.")],
)
def test_a_failed_sign_in_shows_one_alert_the_inputs_point_at(locale: str, message: str) -> None:
    doc = page("sign_in.html", locale, username="ada", error="sign_in.failed")
    alerts = doc.find("p", role="alert")
    assert alerts == [{"id": "sign-in-alert", "class": "alert", "role": "alert"}]
    assert doc.text("p", role="alert") == [message]
    for name in ("username", "password"):
        (control,) = doc.find("input", name=name)
        assert control["aria-invalid"] == "true"
        assert control["aria-describedby"] == "sign-in-alert"
        assert "autofocus" not in control
    assert doc.find("input", name="username")[0]["value"] == "ada"


@pytest.mark.parametrize(
    ("locale", "seconds", "message"),
    [
        ("en", 30, "Too many sign-in attempts. Please try again in 30 seconds."),
        ("en", 1, "Too many sign-in attempts. Please try again in 1 second."),
        ("de", 30, "Zu viele Anmeldeversuche. Bitte versuchen Sie es in 30 Sekunden erneut."),
        ("de", 1, "Zu viele Anmeldeversuche. Bitte versuchen Sie es in 1 Sekunde erneut."),
    ],
)
def test_a_throttled_sign_in_says_how_long_to_wait(locale: str, seconds: int, message: str) -> None:
    doc = page("sign_in.html", locale, retry_after=seconds)
    assert doc.text("p", role="alert") == [message]
    for name in ("username", "password"):
        (control,) = doc.find("input", name=name)
        assert "aria-invalid" not in control  # waiting is not a wrong entry
        assert control["aria-describedby"] == "sign-in-alert"
        assert "autofocus" not in control


def test_throttling_wins_over_a_failure_given_with_it() -> None:
    doc = page("sign_in.html", error="sign_in.failed", retry_after=5)
    assert doc.text("p", role="alert") == ["Too many sign-in attempts. Please try again in 5 seconds."]
    assert not [a for a in doc.find("input") if "aria-invalid" in a]


def test_hidden_values_are_escaped() -> None:
    hidden = {"state": INJECTION, "nonce": "a&b<c>'d"}
    html = render("sign_in.html", locale="en", **sign_in(hidden=hidden, username=INJECTION))
    assert "<script" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    doc = Page(html)
    assert {a["name"]: a["value"] for a in doc.find("input", type="hidden")} == {
        "csrf_token": "csrf-123",
        **hidden,
    }
    assert doc.find("input", name="username")[0]["value"] == INJECTION


def test_names_from_the_caller_are_escaped_everywhere() -> None:
    names = {"tenant_name": "<b>Acme</b>", "client_name": INJECTION, "username": INJECTION}
    for template, context in PAGES.items():
        changes = {k: v for k, v in names.items() if k in CONTEXT[template]}
        html = render(template, locale="de", **context(**changes))
        assert "<script" not in html and "<b>" not in html
        assert "&lt;b&gt;Acme&lt;/b&gt;" in html


def test_asking_to_sign_in_again_is_an_alert_but_no_wrong_entry() -> None:
    doc = page("sign_in.html", "de", error="sign_in.change_expired")
    assert doc.text("p", role="alert") == [
        "Bitte melden Sie sich erneut an, um Ihr neues Passwort festzulegen."
    ]
    for name in ("username", "password"):
        (control,) = doc.find("input", name=name)
        assert "aria-invalid" not in control and control["aria-describedby"] == "sign-in-alert"


# password_change.html ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "heading", "lead", "labels", "hint", "button"),
    [
        (
            "en",
            "Choose a new password",
            "You are signing in as Ada.Lovelace. Choose a new password to continue to Acme Shop.",
            ["New password", "Repeat the new password"],
            "At least 8 characters, not your current password.",
            "Save and continue",
        ),
        (
            "de",
            "Neues Passwort festlegen",
            "Sie melden sich als Ada.Lovelace an. Legen Sie ein neues Passwort fest, um mit Acme Shop "
            "fortzufahren.",
            ["Neues Passwort", "Neues Passwort wiederholen"],
            "Mindestens 8 Zeichen, nicht Ihr bisheriges Passwort.",
            "Speichern und fortfahren",
        ),
    ],
)
def test_password_change_form(
    locale: str, heading: str, lead: str, labels: list[str], hint: str, button: str
) -> None:
    doc = page("password_change.html", locale)
    assert doc.text("h1") == [heading]
    assert doc.text("p", **{"class": "lead"}) == [lead]
    assert doc.find("form") == [{"class": "form", "method": "post", "action": "/t/acme/password"}]
    assert [a["name"] for a in doc.find("input")] == [
        "csrf_token",
        *HIDDEN,
        "change",
        "new_password",
        "new_password_repeat",
    ]
    assert {a["name"]: a["value"] for a in doc.find("input", type="hidden")} == {
        "csrf_token": "csrf-123",
        **HIDDEN,
        "change": "sealed-token",
    }
    assert doc.find("input", name="new_password") == [
        {
            "id": "new-password",
            "name": "new_password",
            "type": "password",
            "autocomplete": "new-password",
            "minlength": "8",
            "required": "",
            "aria-describedby": "new-password-hint",
            "autofocus": "",
        }
    ]
    assert doc.find("input", name="new_password_repeat") == [
        {
            "id": "new-password-repeat",
            "name": "new_password_repeat",
            "type": "password",
            "autocomplete": "new-password",
            "minlength": "8",
            "required": "",
        }
    ]
    assert doc.text("label") == labels
    assert doc.find("label") == [{"for": "new-password"}, {"for": "new-password-repeat"}]
    assert doc.text("p", id="new-password-hint") == [hint]
    assert doc.text("button") == [button]
    assert doc.find("p", role="alert") == [] and not [a for a in doc.find("input") if "aria-invalid" in a]
    assert "value" not in doc.find("input", name="new_password")[0]  # a password is never filled in


@pytest.mark.parametrize(
    ("error", "invalid", "message"),
    [
        ("password_change.mismatch", "new_password_repeat", "The two new passwords are not the same."),
        (
            "password_change.rules",
            "new_password",
            "The new password must be at least 8 and at most 256 characters long.",
        ),
        ("password_change.same", "new_password", "The new password must differ from your current one."),
    ],
)
def test_a_refused_new_password_shows_one_alert_the_field_at_fault_points_at(
    error: str, invalid: str, message: str
) -> None:
    doc = page("password_change.html", error=error)
    assert doc.find("p", role="alert") == [{"id": "password-change-alert", "class": "alert", "role": "alert"}]
    assert doc.text("p", role="alert") == [message]
    new, repeat = doc.find("input", name="new_password")[0], doc.find("input", name="new_password_repeat")[0]
    assert new["aria-describedby"] == "password-change-alert new-password-hint"
    assert repeat["aria-describedby"] == "password-change-alert"
    assert [a["name"] for a in doc.find("input") if a.get("aria-invalid") == "true"] == [invalid]
    assert "autofocus" not in new and "autofocus" not in repeat


# consent.html --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "heading", "buttons", "remember"),
    [
        ("en", "Acme Shop wants to access your account", ["Allow", "Deny"], "Remember this decision"),
        (
            "de",
            "Acme Shop möchte auf Ihr Konto zugreifen",
            ["Zulassen", "Ablehnen"],
            "Diese Entscheidung merken",
        ),
    ],
)
def test_consent_form(locale: str, heading: str, buttons: list[str], remember: str) -> None:
    scopes = [
        ("openid", translate("scope.openid", locale=locale)),
        ("email", translate("scope.email", locale=locale)),
    ]
    doc = page("consent.html", locale, scopes=scopes)
    assert doc.text("h1") == [heading]
    assert doc.find("form") == [{"class": "form", "method": "post", "action": "/t/acme/authorize/consent"}]
    assert doc.find("ul", **{"class": "scopes"}) == [{"class": "scopes", "aria-labelledby": "scopes-heading"}]
    assert doc.find("h2", id="scopes-heading")
    scope_items = [f"{description} {name}" for name, description in scopes]
    assert doc.text("li") == ["English", "Deutsch", *scope_items]  # the language switch, then the scopes
    assert doc.text("code") == ["openid", "email"]
    assert doc.find("button") == [
        {"class": "button primary", "type": "submit", "name": "decision", "value": "allow"},
        {"class": "button", "type": "submit", "name": "decision", "value": "deny"},
    ]
    assert doc.text("button") == buttons
    assert doc.find("input", name="remember") == [
        {"id": "remember", "name": "remember", "type": "checkbox", "value": "yes"}
    ]
    assert doc.text("label") == [remember]
    assert [a["name"] for a in doc.find("input")] == ["csrf_token", *HIDDEN, "remember"]


def test_consent_offers_remember_only_when_allowed() -> None:
    doc = page("consent.html", allow_remember=False)
    assert doc.find("input", name="remember") == [] and doc.find("label") == []
    assert [a["name"] for a in doc.find("input")] == ["csrf_token", *HIDDEN]
    assert len(doc.find("button", name="decision")) == 2


# error.html ----------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("title_key", ERROR_TITLE_KEYS)
def test_error_pages_explain_without_linking_back(title_key: str, locale: str) -> None:
    doc = page("error.html", locale, title_key=title_key, status=400, detail="redirect_uri: not registered")
    assert doc.text("h1") == [MESSAGES[locale][title_key]]
    assert doc.text("title") == [f"{MESSAGES[locale][title_key]} – Acme GmbH"]
    assert MESSAGES[locale][f"{title_key}.help"] in doc.text("p")
    assert doc.text("p", **{"class": "eyebrow"}) == [{"en": "Error 400", "de": "Fehler 400"}[locale]]
    assert doc.text("p", **{"class": "detail"}) == ["redirect_uri: not registered"]
    # the only links are the language switch: never one back to an untrusted redirect URI
    assert [a["href"] for a in doc.find("a")] == list(SWITCH.values())
    assert doc.find("form") == []


@pytest.mark.parametrize("key", ["error.unknown_client", "error.redirect_uri", "error.invalid_request"])
def test_faulty_link_errors_say_to_contact_the_provider(key: str) -> None:
    assert "contact the provider of the application" in MESSAGES["en"][f"{key}.help"]
    assert "wenden Sie sich an den Anbieter der Anwendung" in MESSAGES["de"][f"{key}.help"]


def test_error_detail_is_escaped_and_optional() -> None:
    doc = page("error.html", detail=INJECTION)
    assert "<script" not in doc.html and doc.text("p", **{"class": "detail"}) == [INJECTION]
    assert page("error.html", detail="").find("p", **{"class": "detail"}) == []


def test_an_error_page_without_a_tenant_names_pforte() -> None:
    doc = page("error.html", tenant_name=None, title_key="error.unknown_client", status=404)
    assert doc.text("p", **{"class": "tenant"}) == ["Pforte"]
    assert doc.text("title") == ["Unknown application – Pforte"]


# denied.html ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "heading", "role", "button"),
    [
        (
            "en",
            "You do not have access to Acme Shop",
            "An administrator of Acme GmbH",
            "Back to the application",
        ),
        (
            "de",
            "Sie haben keinen Zugriff auf Acme Shop",
            "Die Administration von Acme GmbH",
            "Zurück zur Anwendung",
        ),
    ],
)
def test_denied_page(locale: str, heading: str, role: str, button: str) -> None:
    url = (
        "https://shop.example.com/cb?error=access_denied&state=s1&iss=https%3A%2F%2Fid.example.com%2Ft%2Facme"
    )
    doc = page("denied.html", locale, continue_url=url)
    assert doc.text("h1") == [heading]
    assert any(role in text for text in doc.text("p"))
    assert doc.find("a", **{"class": "button primary"}) == [{"class": "button primary", "href": url}]
    assert doc.text("a", **{"class": "button primary"}) == [button]
    assert doc.find("a", **{"class": "button primary"}) and "&amp;state=s1" in doc.html
    without = page("denied.html", locale, continue_url=None)
    assert without.find("a", **{"class": "button primary"}) == []


# the catalogue -------------------------------------------------------------------------------


def test_english_and_german_have_the_same_keys() -> None:
    assert set(MESSAGES) == set(LOCALES)
    assert sorted(MESSAGES["en"]) == sorted(MESSAGES["de"])


def placeholders(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name is not None}


@pytest.mark.parametrize("key", sorted(MESSAGES["en"]))
def test_both_languages_of_a_message_name_the_same_placeholders(key: str) -> None:
    names = placeholders(MESSAGES["en"][key])
    assert placeholders(MESSAGES["de"][key]) == names
    assert names <= {"client", "tenant", "seconds", "status", "name"}
    for locale in LOCALES:
        text = translate(key, locale=locale, **dict.fromkeys(names, "X"))
        assert text.strip() == text and text and "<" not in text and "{" not in text


def test_every_title_key_has_its_help_and_every_oidc_scope_a_description() -> None:
    for key in ERROR_TITLE_KEYS:
        assert f"{key}.help" in MESSAGES["en"]
    for scope in ("openid", "profile", "email", "offline_access", "address", "phone"):
        assert f"scope.{scope}" in MESSAGES["en"]


def test_translate_refuses_an_unknown_key_or_a_missing_placeholder() -> None:
    assert (
        translate("sign_in.lead", locale="de", client="Shop")
        == "Melden Sie sich an, um mit Shop fortzufahren"
    )
    with pytest.raises(KeyError):
        translate("sign_in.nope", locale="en")
    with pytest.raises(KeyError):
        translate("sign_in.lead", locale="en")


# render's guards -----------------------------------------------------------------------------


def test_render_wants_exactly_the_declared_context() -> None:
    context = sign_in()
    del context["retry_after"]
    with pytest.raises(TypeError, match=r"missing \['retry_after'\], unexpected \[\]"):
        render("sign_in.html", locale="en", **context)
    with pytest.raises(TypeError, match=r"unexpected \['scopes'\]"):
        render("sign_in.html", locale="en", **sign_in(scopes=[]))
    with pytest.raises(ValueError, match="no page template"):
        render("base.html", locale="en", **BASE)
    with pytest.raises(ValueError, match="locale 'fr'"):
        render("denied.html", locale="fr", **denied())


@pytest.mark.parametrize(
    ("template", "changes"),
    [
        ("sign_in.html", {"switch_locale_urls": {"en": "/x"}}),
        ("sign_in.html", {"hidden": {"csrf_token": "forged"}}),
        ("consent.html", {"hidden": {"decision": "allow"}}),
        ("sign_in.html", {"error": "sign_in.unknown_user"}),
        ("sign_in.html", {"error": "password_change.same"}),
        ("password_change.html", {"error": "sign_in.failed"}),
        ("password_change.html", {"hidden": {"new_password": "x"}}),
        ("error.html", {"title_key": "sign_in.failed"}),
    ],
)
def test_render_refuses_what_the_template_would_not_notice(template: str, changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        render(template, locale="en", **PAGES[template](**changes))


# negotiate_locale ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "ui_locales", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", (), "de"),
        ("en;q=0.1, de;q=0", (), "en"),
        ("fr, de;q=0.5", (), "de"),
        (";;;q=x,", (), "en"),
        ("de-DE,de;q=0.9", ["fr", "de-AT"], "de"),
        ("de", ["fr", "en-GB", "de"], "en"),
        ("de", ["fr", "x-klingon", ""], "de"),
        ("de", "fr de-CH", "de"),  # the OIDC parameter passed as its string
        (None, (), "en"),
        ("", (), "en"),
        ("de", (), "de"),
        ("DE-ch", (), "de"),
        ("fr, it", (), "en"),
        ("de;q=0", (), "en"),
        ("en;q=0.5, de;q=0.5", (), "en"),  # a tie goes to the earlier range
        ("de;q=0.5, en;q=0.5", (), "de"),
        ("en;q=0.8, de;q=0.800", (), "en"),
        ("en;q=0.3, *;q=0.5", (), "de"),  # "*" stands for the languages not named
        ("en;q=0, *", (), "de"),
        ("de;q=0, *", (), "en"),
        ("*", (), "en"),
        ("de;q=1.5, en;q=0.2", (), "en"),  # q above 1 is malformed: the entry is skipped
        ("de;q=0.5555, en;q=0.2", (), "en"),  # four decimals are malformed
        ("de;q=.5, en;q=0.2", (), "en"),
        ("de; q=0.9 , en;q=0.8", (), "de"),  # optional whitespace around ";"
        ("de;q=0.9;x=1, en;q=0.2", (), "en"),
        ("de_DE, en;q=0.5", (), "en"),  # "_" is no language range
        ("toolongtag-de, en;q=0.5", (), "en"),
        ("de-, en;q=0.5", (), "en"),
        (",,, ,de;q=0.7", (), "de"),
        ("\x00\xff, de", (), "de"),
    ],
)
def test_negotiate_locale(accept_language: str | None, ui_locales: Any, expected: str) -> None:
    assert negotiate_locale(accept_language, ui_locales) == expected


def test_negotiate_locale_survives_a_huge_header() -> None:
    assert negotiate_locale("fr;q=0.1," * 10_000 + "de") == "en"  # past the entries looked at
    assert negotiate_locale("de;q=0.2," + "x" * 100_000) == "de"


# the stylesheet ------------------------------------------------------------------------------


def test_the_stylesheet_loads_nothing_else() -> None:
    css = CSS.read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert not re.search(r"https?:|//[a-z]", css)
    assert "prefers-color-scheme: dark" in css and ":focus-visible" in css


def colours(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6});", block))


def contrast(first: str, second: str) -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# (foreground, background, WCAG 2.2 AA minimum: 4.5 text, 3 borders and focus indicators)
PAIRS = [
    ("text", "bg", 4.5),
    ("text", "surface", 4.5),
    ("muted", "bg", 4.5),
    ("muted", "surface", 4.5),
    ("text", "code-bg", 4.5),
    ("accent-text", "accent", 4.5),
    ("accent-text", "accent-hover", 4.5),
    ("danger-text", "danger-bg", 4.5),
    ("field-border", "surface", 3),
    ("danger-border", "surface", 3),
    ("focus", "surface", 3),
    ("focus", "bg", 3),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_colours_meet_wcag_aa(scheme: str) -> None:
    css = CSS.read_text(encoding="utf-8")
    light, _, dark = css.partition("@media (prefers-color-scheme: dark)")
    palette = colours(light if scheme == "light" else dark.split("}\n}", 1)[0])
    assert set(colours(light)) == set(colours(dark.split("}\n}", 1)[0]))
    failing = [
        (fg, bg, round(contrast(palette[fg], palette[bg]), 2))
        for fg, bg, minimum in PAIRS
        if contrast(palette[fg], palette[bg]) < minimum
    ]
    assert failing == []
