"""RFC 8707 resource indicators at the token endpoint: the ``resource`` a token is meant for.

"The value of the resource parameter MUST be an absolute URI ... MUST NOT include a fragment
component" (§2), and the server answers ``invalid_target`` for a resource it does not know or
will not issue for. The resources a token may name are the registered audiences; absent a
``resource``, the token is for the default one. A token has one audience here, so more than one
``resource`` in a request is ``invalid_target`` too (the form parser raises that).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pforte.domain.oauth.errors import InvalidTarget

PARAMETER = "resource"


def audience(requested: str | None, *, registered: tuple[str, ...], default: str) -> str:
    """The ``aud`` of a token asked for ``requested`` (the form's ``resource``, if any)."""
    if requested is None:
        return default
    try:
        scheme = urlsplit(requested).scheme
    except ValueError:
        scheme = ""
    if not scheme:
        raise InvalidTarget("resource must be an absolute URI")
    if "#" in requested:
        raise InvalidTarget("resource must not contain a fragment")
    # Registered audiences compare as exact strings, as redirect URIs do.
    if requested not in registered:
        raise InvalidTarget("the resource is not known to this server")
    return requested


def repeated() -> InvalidTarget:
    """The error for a request naming more than one resource."""
    return InvalidTarget("ask for one resource per token request")


def platform_audience(public_url: str) -> str:
    """The audience of the platform's own APIs (DESIGN §5): ``{PFORTE_PUBLIC_URL}/api``, the one
    registered resource of every tenant and the default of its access tokens."""
    return f"{public_url}/api"
