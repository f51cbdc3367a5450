"""RFC 6749 §4.1.1 authorization request and OpenID Connect Core 1.0 §3.1.2.1 authentication request.

Two stages, because an error found before the redirect URI is trusted must not be sent to it:

1. ``trusted_redirect`` — the client is enabled and ``redirect_uri`` is one it registered
   (``redirect_uris.matches``). A failure is ``UntrustedRequest``: an English message for an error
   page shown to the resource owner, never a redirect.
2. ``parse`` — everything else. A failure is an ``OAuthError`` that the caller sends to the
   trusted redirect URI (``authorization_responses.error_redirect``) with ``state_of(params)``.

``redirect_uri`` is always required, even from a client with a single registered URI: RFC 6749
§4.1.1 makes it OPTIONAL, but OIDC Core §3.1.2.1 makes it REQUIRED, and with it the code is bound
to one URI that the token request must repeat (RFC 6749 §4.1.3).

Only ``response_type=code`` in the query (``response_mode`` absent or ``query``) is served; the
request object parameters (``request``, ``request_uri``) and ``registration`` are refused with
OIDC Core §3.1.2.6's codes. Other parameters a client may send (``display``, ``acr_values``,
``id_token_hint``, ``claims``…) are ignored: "The authorization server MUST ignore unrecognized
request parameters." (RFC 6749 §3.1). An absent ``scope`` asks for no scope (a plain OAuth 2.0
request, no ID token): the "pre-defined default value" of RFC 6749 §3.3 is the empty set.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pforte.domain.clients import AUTHORIZATION_CODE
from pforte.domain.oauth import pkce
from pforte.domain.oauth.errors import (
    InvalidRequest,
    InvalidScope,
    OAuthError,
    RegistrationNotSupported,
    RequestNotSupported,
    RequestUriNotSupported,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from pforte.domain.oauth.redirect_uris import matches
from pforte.domain.oauth.scopes import is_scope_token, parse_scope
from pforte.domain.text import has_control

RESPONSE_TYPE = "code"
RESPONSE_MODE = "query"
OPENID = "openid"
OFFLINE_ACCESS = "offline_access"
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
MAX_TEXT = 512  # state, nonce, login_hint
MAX_UI_LOCALES = 255
_MAX_AGE_RE = re.compile(r"[0-9]{1,10}")
# A BCP 47 tag's shape (RFC 5646 §2.1, loosely): a language, then subtags of 1-8 letters or digits.
_LOCALE_RE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_UNSUPPORTED: Mapping[str, type[OAuthError]] = {
    "request": RequestNotSupported,
    "request_uri": RequestUriNotSupported,
    "registration": RegistrationNotSupported,
}


class UntrustedRequest(Exception):
    """The request cannot be answered at its redirect URI (missing, unregistered, or the client
    disabled). Not an ``OAuthError``: its ``message`` is shown to the resource owner."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthorizingClient(Protocol):
    """What the authorization endpoint reads of a client (read-only: attributes or properties)."""

    @property
    def client_id(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def is_public(self) -> bool: ...
    @property
    def redirect_uris(self) -> Sequence[str]: ...
    @property
    def allow_redirect_uri_prefix(self) -> bool: ...
    @property
    def allowed_grant_types(self) -> Collection[str]: ...
    @property
    def allowed_scopes(self) -> Collection[str]: ...
    @property
    def allow_no_pkce(self) -> bool: ...
    @property
    def allow_offline_access(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A valid authorization request, as the sign-in and consent steps and the code carry it."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]  # in request order, each once
    state: str | None
    nonce: str | None
    prompt: frozenset[str]
    max_age: int | None
    login_hint: str | None
    ui_locales: tuple[str, ...]
    code_challenge: str | None  # S256 (the only method)
    openid: bool  # an OpenID Connect request: "openid" is among the scopes


def _get(params: Mapping[str, str], name: str) -> str | None:
    # "Parameters sent without a value MUST be treated as if they were omitted from the request."
    # (RFC 6749 §3.1)
    return params.get(name) or None


def state_of(params: Mapping[str, str]) -> str | None:
    """The ``state`` to echo on an error redirect, even when ``parse`` fails: the raw value if it
    is at most 512 characters without control characters, else None (``parse`` refuses it)."""
    state = _get(params, "state")
    if state is None or len(state) > MAX_TEXT or has_control(state):
        return None
    return state


def trusted_redirect(params: Mapping[str, str], client: AuthorizingClient) -> str:
    """The request's ``redirect_uri``, once it may receive the response; ``UntrustedRequest`` if not."""
    # "If the request fails due to a missing, invalid, or mismatching redirection URI, or if the
    # client identifier is missing or invalid, the authorization server SHOULD inform the
    # resource owner of the error and MUST NOT automatically redirect the user-agent to the
    # invalid redirection URI." (RFC 6749 §4.1.2.1)
    if _get(params, "client_id") != client.client_id:
        raise UntrustedRequest("The request does not name this application (client_id).")
    if not client.enabled:
        raise UntrustedRequest("This application is disabled.")
    redirect_uri = _get(params, "redirect_uri")
    if redirect_uri is None:
        raise UntrustedRequest("The application did not send a redirect_uri.")
    if has_control(redirect_uri) or not matches(client.redirect_uris, redirect_uri):
        raise UntrustedRequest("The redirect_uri is not registered for this application.")
    return redirect_uri


# What ``parse`` reads; the rest is ignored ("The authorization server MUST ignore unrecognized
# request parameters", RFC 6749 §3.1), so the sign-in form carries only these.
PARAMETERS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "max_age",
        "login_hint",
        "ui_locales",
        "response_mode",
    }
)


def recognised(params: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in params.items() if name in PARAMETERS}


def parse(params: Mapping[str, str], client: AuthorizingClient, *, redirect_uri: str) -> AuthorizationRequest:
    """The request made by ``params`` for ``client``, whose ``redirect_uri`` ``trusted_redirect``
    returned. Raises the ``OAuthError`` to send to that URI."""
    for name, error in _UNSUPPORTED.items():
        if _get(params, name) is not None:
            raise error(f"the {name} parameter is not supported")
    response_type = _get(params, "response_type")
    if response_type is None:
        raise InvalidRequest("response_type required")
    if response_type != RESPONSE_TYPE:
        raise UnsupportedResponseType("response_type must be code")
    if AUTHORIZATION_CODE not in client.allowed_grant_types:
        raise UnauthorizedClient("this client may not use the authorization code grant")
    if _get(params, "response_mode") not in (None, RESPONSE_MODE):
        raise InvalidRequest("response_mode must be query")
    scopes = _scopes(_get(params, "scope"), client)
    prompt = _prompt(_get(params, "prompt"))
    max_age = _get(params, "max_age")
    if max_age is not None and _MAX_AGE_RE.fullmatch(max_age) is None:
        raise InvalidRequest("max_age must be a non-negative integer of at most 10 digits")
    nonce, state, login_hint = (_text(params, name) for name in ("nonce", "state", "login_hint"))
    ui_locales = _ui_locales(_get(params, "ui_locales"))
    # Public clients always use PKCE; confidential ones unless allowNoPkce (RFC 9700 §2.1.1).
    code_challenge = pkce.check_challenge(
        _get(params, "code_challenge"),
        _get(params, "code_challenge_method"),
        required=client.is_public or not client.allow_no_pkce,
    )
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=nonce,
        prompt=prompt,
        max_age=None if max_age is None else int(max_age),
        login_hint=login_hint,
        ui_locales=ui_locales,
        code_challenge=code_challenge,
        openid=OPENID in scopes,
    )


def _scopes(value: str | None, client: AuthorizingClient) -> tuple[str, ...]:
    if value is None:
        return ()
    tokens = parse_scope(value)
    if not tokens or not all(is_scope_token(token) for token in tokens):
        raise InvalidScope("scope is malformed (RFC 6749 section 3.3)")
    scopes = tuple(dict.fromkeys(tokens))
    allowed = client.allowed_scopes
    if not all(scope in allowed for scope in scopes):
        raise InvalidScope("a requested scope is not allowed for this client")
    if OFFLINE_ACCESS in scopes and not client.allow_offline_access:
        raise InvalidScope("offline_access is not allowed for this client")
    return scopes


def _prompt(value: str | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    prompt = frozenset(word for word in value.split(" ") if word)
    if not prompt or not prompt <= PROMPTS:
        raise InvalidRequest("prompt must be none, or any of login, consent and select_account")
    # "If this parameter contains none with any other value, an error is returned." (OIDC Core
    # §3.1.2.1)
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequest("prompt none must not be combined with other values")
    return prompt


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = _get(params, name)
    if value is None:
        return None
    if len(value) > MAX_TEXT:
        raise InvalidRequest(f"{name} must be at most {MAX_TEXT} characters")
    if has_control(value):
        raise InvalidRequest(f"{name} contains a control character")
    return value


def _ui_locales(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if len(value) > MAX_UI_LOCALES:
        raise InvalidRequest(f"ui_locales must be at most {MAX_UI_LOCALES} characters")
    tags = [tag for tag in value.split(" ") if tag]
    if not tags or not all(_LOCALE_RE.fullmatch(tag) for tag in tags):
        raise InvalidRequest("ui_locales must be language tags separated by spaces, such as de-CH en")
    return tuple(dict.fromkeys(tags))
