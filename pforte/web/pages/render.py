"""Render a sign-in page: one Jinja2 environment, strict about its templates' context.

``render`` checks that the caller passes exactly the members a template declares in
``CONTEXT`` (a missing or an unexpected one is a ``TypeError``), so the routes and the
templates cannot drift apart silently; inside the templates ``StrictUndefined`` turns any
other slip into an error, and autoescaping covers every value, attributes included.
Templates call ``t(key, **params)``, which reads the catalogue of the page's locale.
"""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from pforte.web.pages.locales import LANGUAGE_NAMES, LOCALES
from pforte.web.pages.messages import ERROR_TITLE_KEYS, MESSAGES

# what every page passes to base.html
BASE_CONTEXT = frozenset({"static_base", "switch_locale_urls", "tenant_name"})

# template -> the context members its caller passes (besides ``locale``, render's argument)
CONTEXT: dict[str, frozenset[str]] = {
    "sign_in.html": BASE_CONTEXT
    | {"client_name", "action", "csrf_token", "hidden", "username", "error", "retry_after"},
    "password_change.html": BASE_CONTEXT
    | {"client_name", "action", "csrf_token", "hidden", "username", "error"},
    "consent.html": BASE_CONTEXT
    | {"client_name", "action", "csrf_token", "hidden", "scopes", "allow_remember"},
    "error.html": BASE_CONTEXT | {"status", "title_key", "detail"},
    "denied.html": BASE_CONTEXT | {"client_name", "continue_url"},
    "logout.html": BASE_CONTEXT | {"action", "csrf_token", "hidden"},
    "signed_out.html": BASE_CONTEXT,
    "account.html": BASE_CONTEXT
    | {"account", "applications", "notice", "csrf_token", "withdraw_action", "sign_out_action"},
}

# the names the forms post themselves; ``hidden`` must not shadow them
FORM_FIELDS = frozenset(
    {"csrf_token", "username", "password", "new_password", "new_password_repeat", "decision", "remember"}
)

# what account.html accepts as ``notice``
ACCOUNT_NOTICES = frozenset({None, "account.withdrawn", "account.nothing_withdrawn"})

# the message keys sign_in.html accepts as ``error``
SIGN_IN_ERRORS = frozenset({"sign_in.failed", "sign_in.change_expired"})

# the message keys password_change.html accepts as ``error``
PASSWORD_CHANGE_ERRORS = frozenset(
    {"password_change.rules", "password_change.mismatch", "password_change.same"}
)


def translate(key: str, *, locale: str, **params: object) -> str:
    """The message ``key`` in ``locale`` with its placeholders filled; an unknown key or a
    missing placeholder is a ``KeyError``."""
    return MESSAGES[locale][key].format_map(params)


@pass_context
def _t(context: Context, key: str, **params: object) -> str:
    locale = context["locale"]
    assert isinstance(locale, str)
    return translate(key, locale=locale, **params)


ENVIRONMENT = Environment(
    loader=PackageLoader("pforte.web.pages", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.globals.update(t=_t, locales=LOCALES, language_names=LANGUAGE_NAMES)


def render(template: str, *, locale: str, **context: object) -> str:
    """The HTML of ``template`` ("sign_in.html", …) in ``locale`` ("en" or "de").

    ``context`` holds exactly the members ``CONTEXT[template]`` names (see the package
    docstring for their types and meaning).
    """
    expected = CONTEXT.get(template)
    if expected is None:
        raise ValueError(f"no page template {template!r}; one of {sorted(CONTEXT)}")
    if locale not in LOCALES:
        raise ValueError(f"locale {locale!r} is none of {LOCALES}")
    missing, unexpected = expected - context.keys(), context.keys() - expected
    if missing or unexpected:
        raise TypeError(f"{template}: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    _check(template, context)
    static_base = str(context["static_base"]).rstrip("/")  # "/static/" must not give "//pages/…"
    return ENVIRONMENT.get_template(template).render(
        {**context, "locale": locale, "static_base": static_base}
    )


def _check(template: str, context: Mapping[str, object]) -> None:
    """The members whose mistakes the templates would not notice by themselves."""
    urls = context["switch_locale_urls"]
    if not isinstance(urls, Mapping) or set(urls) != set(LOCALES):
        raise ValueError(f"switch_locale_urls must map each of {LOCALES} to a URL")
    hidden = context.get("hidden", {})
    if not isinstance(hidden, Mapping):
        raise TypeError("hidden must be a mapping of name to value")
    if shadowed := FORM_FIELDS & set(hidden):
        raise ValueError(f"hidden must not carry the form's own fields {sorted(shadowed)}")
    if template == "sign_in.html" and context["error"] is not None and context["error"] not in SIGN_IN_ERRORS:
        raise ValueError(f"sign-in error must be None or one of {sorted(SIGN_IN_ERRORS)}")
    if (
        template == "password_change.html"
        and context["error"] is not None
        and context["error"] not in PASSWORD_CHANGE_ERRORS
    ):
        raise ValueError(f"password-change error must be None or one of {sorted(PASSWORD_CHANGE_ERRORS)}")
    if template == "account.html" and context["notice"] not in ACCOUNT_NOTICES:
        raise ValueError(f"notice must be one of {sorted(map(str, ACCOUNT_NOTICES))}")
    if template == "error.html" and context["title_key"] not in ERROR_TITLE_KEYS:
        raise ValueError(f"title_key must be one of {ERROR_TITLE_KEYS}")
