"""How a scope is described to a person: a permission by the catalogue's text in their language
(the seed's "Event-API lesen — …"), an OIDC scope by the pages' own message."""

from __future__ import annotations

from pforte.domain.permissions import BY_NAME
from pforte.web.pages.render import translate


def describe(scope: str, locale: str) -> str:
    if scope in BY_NAME:
        permission = BY_NAME[scope]
        return permission.description_de if locale == "de" else permission.description_en
    try:
        return translate(f"scope.{scope}", locale=locale)
    except KeyError:
        return scope
