"""Which of our languages a page is shown in: OIDC ``ui_locales``, then ``Accept-Language``.

RFC 9110 §12.5.4 (Accept-Language) with the RFC 4647 §2.1 basic ranges it refers to::

    Accept-Language = #( language-range [ weight ] )
    language-range  = (1*8ALPHA *("-" 1*8alphanum)) / "*"
    weight          = OWS ";" OWS "q=" qvalue
    qvalue          = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )

"a value of 0 means not acceptable" (§12.4.2), and "*" matches every language not named by
another range (RFC 4647 §3.3.1). We hold whole languages ("de", not "de-CH"), so a range counts
for the language of its primary subtag. A malformed entry is skipped: the header comes from
the browser, and a bad one must never cost the person the page.

OIDC Core §3.1.2.1: ``ui_locales`` is "a space-separated list of BCP47 language tag values,
ordered by preference"; the first one we hold wins over the header.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

LOCALES: tuple[str, ...] = ("en", "de")
DEFAULT_LOCALE = "en"

# how each language names itself, for the language switch (the same in every locale)
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "de": "Deutsch"}

_RANGE_RE = re.compile(r"\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_WEIGHT_RE = re.compile(r"[qQ]=(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")
_TAG_RE = re.compile(r"([A-Za-z]{1,8})(?:[-_][A-Za-z0-9]{1,8})*")

# a header longer than this is cut (browsers send a handful of entries)
_MAX_ENTRIES = 64


def negotiate_locale(accept_language: str | None, ui_locales: Sequence[str] = ()) -> str:
    """The locale ("en" or "de") to render a page in.

    The first of ``ui_locales`` whose primary subtag we hold; else the language of the
    Accept-Language range with the highest q (q=0 excluded, ties to the earlier range);
    else ``DEFAULT_LOCALE``.
    """
    if isinstance(ui_locales, str):  # a str is a Sequence[str] too: take it as the OIDC parameter
        ui_locales = ui_locales.split()
    for tag in ui_locales:
        match = _TAG_RE.fullmatch(tag.strip())
        if match and (language := match.group(1).lower()) in LOCALES:
            return language
    return _from_accept_language(accept_language or "")


def _from_accept_language(header: str) -> str:
    ranges = [entry for entry in map(_parse_entry, header.split(",")[:_MAX_ENTRIES]) if entry]
    named = {language for language, _ in ranges}
    best: tuple[float, float, str] | None = None  # (q, -position, locale): max() picks the winner
    for position, (language, q) in enumerate(ranges):
        if q == 0:
            continue
        if language == "*":
            candidates = [locale for locale in LOCALES if locale not in named]
        else:
            candidates = [language] if language in LOCALES else []
        for offset, locale in enumerate(candidates):
            # several locales under one "*" keep LOCALES order among themselves
            candidate = (q, -position - offset / len(LOCALES), locale)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    return best[2] if best else DEFAULT_LOCALE


def _parse_entry(entry: str) -> tuple[str, float] | None:
    """``(primary subtag in lower case or "*", q)`` for one list member, or None when malformed."""
    language_range, *parameters = (part.strip(" \t") for part in entry.split(";"))
    if not _RANGE_RE.fullmatch(language_range) or len(parameters) > 1:
        return None
    q = 1.0
    if parameters:
        weight = _WEIGHT_RE.fullmatch(parameters[0])
        if weight is None:
            return None
        q = float(weight.group(1))
    return language_range.split("-", 1)[0].lower(), q
