"""RFC 6749 §4.1.2 / §4.1.2.1 redirects with RFC 9207 ``iss``: every member parsed back with
urllib, an existing query kept, no fragment."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from pforte.domain.oauth import errors
from pforte.domain.oauth.authorization_responses import error_redirect, success_redirect

ISSUER = "https://id.example.com/t/acme"
CODE = "SplxlOBeZQQYbYS6WxSbIA"


def split(url: str) -> tuple[str, list[tuple[str, str]], str]:
    """``(url without query, query pairs in order, fragment)``."""
    parts = urlsplit(url)
    base = parts._replace(query="", fragment="").geturl()
    return base, parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True), parts.fragment


# success_redirect ----------------------------------------------------------------------------


def test_success_with_state() -> None:
    url = success_redirect("https://client.example.com/cb", code=CODE, state="xyz", issuer=ISSUER)
    assert url == (
        "https://client.example.com/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz"
        "&iss=https%3A%2F%2Fid.example.com%2Ft%2Facme"
    )
    assert split(url) == (
        "https://client.example.com/cb",
        [("code", CODE), ("state", "xyz"), ("iss", ISSUER)],
        "",
    )


def test_success_without_state() -> None:
    url = success_redirect("https://client.example.com/cb", code=CODE, state=None, issuer=ISSUER)
    assert split(url) == ("https://client.example.com/cb", [("code", CODE), ("iss", ISSUER)], "")


@pytest.mark.parametrize(
    ("registered", "kept"),
    [
        ("https://client.example.com/cb?tenant=acme", [("tenant", "acme")]),
        ("https://client.example.com/cb?a=1&b=two%20words", [("a", "1"), ("b", "two words")]),
        ("https://client.example.com/cb?a=1&", [("a", "1")]),
        ("https://client.example.com/cb?", []),
        ("https://client.example.com/cb?code=old", [("code", "old")]),
    ],
)
def test_an_existing_query_is_kept(registered: str, kept: list[tuple[str, str]]) -> None:
    url = success_redirect(registered, code=CODE, state="s", issuer=ISSUER)
    assert url.startswith(registered)
    assert split(url) == (
        "https://client.example.com/cb",
        [*kept, ("code", CODE), ("state", "s"), ("iss", ISSUER)],
        "",
    )


@pytest.mark.parametrize(
    "registered",
    [
        "http://127.0.0.1:51004/oauth2redirect/example-provider",
        "http://[::1]:61023/cb",
        "com.example.app:/oauth2redirect",
        "com.example.app://callback",
        "https://client.example.com",
    ],
)
def test_native_and_bare_uris(registered: str) -> None:
    url = success_redirect(registered, code=CODE, state=None, issuer=ISSUER)
    assert url == f"{registered}?code={CODE}&iss=https%3A%2F%2Fid.example.com%2Ft%2Facme"
    assert split(url)[1] == [("code", CODE), ("iss", ISSUER)]


def test_hostile_state_is_encoded_not_injected() -> None:
    state = "a&code=evil#frag x+y=z%41 ÄÖü\"'<>"
    url = success_redirect("https://client.example.com/cb", code=CODE, state=state, issuer=ISSUER)
    base, pairs, fragment = split(url)
    assert (base, pairs, fragment) == (
        "https://client.example.com/cb",
        [("code", CODE), ("state", state), ("iss", ISSUER)],
        "",
    )
    assert "#" not in url and " " not in url and url.isascii()


# error_redirect ------------------------------------------------------------------------------


def test_error_with_description_and_state() -> None:
    error = errors.AccessDenied("the user declined")
    url = error_redirect("https://client.example.com/cb", error, state="xyz", issuer=ISSUER)
    assert url == (
        "https://client.example.com/cb?error=access_denied&error_description=the+user+declined"
        "&state=xyz&iss=https%3A%2F%2Fid.example.com%2Ft%2Facme"
    )
    assert split(url) == (
        "https://client.example.com/cb",
        [
            ("error", "access_denied"),
            ("error_description", "the user declined"),
            ("state", "xyz"),
            ("iss", ISSUER),
        ],
        "",
    )


def test_error_without_description_or_state() -> None:
    url = error_redirect("https://client.example.com/cb", errors.LoginRequired(""), state=None, issuer=ISSUER)
    assert split(url) == ("https://client.example.com/cb", [("error", "login_required"), ("iss", ISSUER)], "")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.InvalidRequest("response_type required"), "invalid_request"),
        (errors.UnsupportedResponseType("response_type must be code"), "unsupported_response_type"),
        (errors.InvalidScope("a requested scope is not allowed for this client"), "invalid_scope"),
        (errors.UnauthorizedClient("no"), "unauthorized_client"),
        (errors.ConsentRequired("consent needed"), "consent_required"),
        (errors.InteractionRequired("interaction needed"), "interaction_required"),
        (errors.ServerError("internal error"), "server_error"),
        (errors.TemporarilyUnavailable("try again"), "temporarily_unavailable"),
    ],
)
def test_every_error_keeps_the_registered_query(error: errors.OAuthError, code: str) -> None:
    url = error_redirect("https://client.example.com/cb?tenant=acme", error, state="s", issuer=ISSUER)
    assert split(url) == (
        "https://client.example.com/cb",
        [
            ("tenant", "acme"),
            ("error", code),
            ("error_description", error.description),
            ("state", "s"),
            ("iss", ISSUER),
        ],
        "",
    )


# no fragment ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri", ["https://client.example.com/cb#", "https://client.example.com/cb#x", "https://c/cb?a#b"]
)
def test_a_uri_with_a_fragment_is_a_programming_error(uri: str) -> None:
    with pytest.raises(ValueError, match=r"a redirect URI has no fragment \(RFC 6749 section 3.1.2\)"):
        success_redirect(uri, code=CODE, state=None, issuer=ISSUER)
    with pytest.raises(ValueError, match="a redirect URI has no fragment"):
        error_redirect(uri, errors.AccessDenied("no"), state=None, issuer=ISSUER)
