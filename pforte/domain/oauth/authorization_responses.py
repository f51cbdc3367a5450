"""RFC 6749 §4.1.2 / §4.1.2.1 authorization responses, with RFC 9207's ``iss``.

The response travels in the query of the redirect URI, encoded as
``application/x-www-form-urlencoded`` (``urllib.parse.urlencode``). A query the registered URI
already has is kept as it is, and the parameters are appended after it: "The redirection endpoint
URI ... MAY include an "application/x-www-form-urlencoded" formatted ... query component, which
MUST be retained when adding additional query parameters." (RFC 6749 §3.1.2). No fragment ever:
"The endpoint URI MUST NOT include a fragment component." (§3.1.2)

"In authorization responses to the client, including error responses, an authorization server
supporting this specification MUST indicate its identity by including the iss parameter in the
response." (RFC 9207 §2) — so ``iss`` is on every redirect, success or error.

Only redirect URIs that ``authorization_requests.trusted_redirect`` returned reach this module.
"""

from __future__ import annotations

from urllib.parse import urlencode

from pforte.domain.oauth.errors import OAuthError


def success_redirect(redirect_uri: str, *, code: str, state: str | None, issuer: str) -> str:
    """Where to send the user-agent with the authorization code (§4.1.2): ``code``, ``state``
    when the request had one ("REQUIRED if the "state" parameter was present"), ``iss``."""
    parameters = [("code", code)]
    if state is not None:
        parameters.append(("state", state))
    parameters.append(("iss", issuer))
    return _with_query(redirect_uri, parameters)


def error_redirect(redirect_uri: str, error: OAuthError, *, state: str | None, issuer: str) -> str:
    """Where to send the user-agent with an error (§4.1.2.1): ``error``, ``error_description``
    when the error has one, ``state`` when the request had a usable one, ``iss``."""
    parameters = [("error", error.error)]
    if error.description:
        parameters.append(("error_description", error.description))
    if state is not None:
        parameters.append(("state", state))
    parameters.append(("iss", issuer))
    return _with_query(redirect_uri, parameters)


def _with_query(redirect_uri: str, parameters: list[tuple[str, str]]) -> str:
    if "#" in redirect_uri:
        raise ValueError("a redirect URI has no fragment (RFC 6749 section 3.1.2)")
    if "?" not in redirect_uri:
        separator = "?"
    elif redirect_uri.endswith(("?", "&")):
        separator = ""
    else:
        separator = "&"
    return f"{redirect_uri}{separator}{urlencode(parameters)}"
