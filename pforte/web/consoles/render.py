"""The admin console's pages: one Jinja2 environment (autoescape, ``StrictUndefined``) over
``web/consoles/templates``, with the console's message catalogue (``messages``) behind
``t(key, **params)``. Times are rendered as ``<time datetime="…">`` in UTC; the console's
script shows them in the browser's local time (without script they stay UTC, labelled so)."""

from __future__ import annotations

from datetime import UTC, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from pforte.web.consoles.messages import MESSAGES
from pforte.web.pages.locales import LANGUAGE_NAMES, LOCALES


def translate(key: str, *, locale: str, **params: object) -> str:
    return MESSAGES[locale][key].format_map(params)


@pass_context
def _t(context: Context, key: str, **params: object) -> str:
    locale = context["locale"]
    assert isinstance(locale, str)
    return translate(key, locale=locale, **params)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


ENVIRONMENT = Environment(
    loader=PackageLoader("pforte.web.consoles", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.globals.update(t=_t, locales=LOCALES, language_names=LANGUAGE_NAMES)
ENVIRONMENT.filters.update(utc=_utc, iso=_iso)


def page(template: str, *, locale: str, **context: object) -> str:
    if locale not in LOCALES:
        raise ValueError(f"locale {locale!r} is none of {LOCALES}")
    return ENVIRONMENT.get_template(template).render({**context, "locale": locale})
