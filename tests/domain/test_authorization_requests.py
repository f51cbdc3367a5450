"""RFC 6749 §4.1.1 / OIDC Core §3.1.2.1 authorization requests: the redirect URI trusted first (no
redirect on failure), then every parameter, each failure the exact OAuthError to redirect with."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pforte.domain.clients import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN, ClientSpec
from pforte.domain.oauth import errors
from pforte.domain.oauth.authorization_requests import (
    AuthorizationRequest,
    AuthorizingClient,
    UntrustedRequest,
    parse,
    state_of,
    trusted_redirect,
)
from pforte.domain.oauth.errors import OAuthError

REDIRECT = "https://app.example.com/cb"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 Appendix B

CONFIDENTIAL = ClientSpec(
    client_id="web-app",
    allowed_grant_types=[AUTHORIZATION_CODE, REFRESH_TOKEN],
    allowed_scopes=["openid", "profile", "email", "offline_access", "users:read", "orders"],
    redirect_uris=[REDIRECT, "http://127.0.0.1/native", "https://app.example.com/prefix/*"],
    allow_redirect_uri_prefix=True,
    allow_offline_access=True,
)
PUBLIC = replace(CONFIDENTIAL, client_id="spa", require_client_secret=False)
NO_PKCE = replace(CONFIDENTIAL, allow_no_pkce=True)


def params(**extra: str) -> dict[str, str]:
    base = {
        "client_id": "web-app",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    base.update(extra)
    return {name: value for name, value in base.items() if value != "<omit>"}


def refused(
    error: type[OAuthError], description: str, given: dict[str, str], client: AuthorizingClient = CONFIDENTIAL
) -> None:
    with pytest.raises(error) as caught:
        parse(given, client, redirect_uri=REDIRECT)
    assert type(caught.value) is error
    assert caught.value.description == description


def untrusted(message: str, given: dict[str, str], client: AuthorizingClient = CONFIDENTIAL) -> None:
    with pytest.raises(UntrustedRequest) as caught:
        trusted_redirect(given, client)
    assert caught.value.message == message
    assert str(caught.value) == message
    assert not isinstance(caught.value, OAuthError)


# trusted_redirect ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        REDIRECT,
        "http://127.0.0.1/native",
        "http://127.0.0.1:51004/native",
        "https://app.example.com/prefix/x",
    ],
)
def test_a_registered_redirect_uri_is_trusted(uri: str) -> None:
    assert trusted_redirect(params(redirect_uri=uri), CONFIDENTIAL) == uri


@pytest.mark.parametrize("missing", ["<omit>", ""])
def test_redirect_uri_is_always_required(missing: str) -> None:
    """Even with one registered URI (OIDC Core §3.1.2.1: REQUIRED)."""
    single = replace(CONFIDENTIAL, redirect_uris=[REDIRECT])
    untrusted("The application did not send a redirect_uri.", params(redirect_uri=missing), single)


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example.com/cb",
        REDIRECT + "/",
        REDIRECT + "?x=1",
        REDIRECT + "#x",
        REDIRECT.upper(),
        "https://app.example.com/prefix/../admin",
        "https://app.example.com/prefix/x\r\nSet-Cookie: a=b",
        "https://app.example.com/prefix/x\x00",
        "https://app.example.com/prefix/x\t",
        "http://localhost:51004/native",
        "javascript:alert(1)",
        "https://app.example.com@evil.example.com/cb",
    ],
)
def test_an_unregistered_redirect_uri_is_not_trusted(uri: str) -> None:
    untrusted("The redirect_uri is not registered for this application.", params(redirect_uri=uri))


def test_a_disabled_client_is_not_redirected_to() -> None:
    disabled = replace(CONFIDENTIAL, enabled=False)
    untrusted("This application is disabled.", params(), disabled)


@pytest.mark.parametrize("client_id", ["<omit>", "", "other", "WEB-APP", "web-app "])
def test_the_request_must_name_the_client(client_id: str) -> None:
    untrusted("The request does not name this application (client_id).", params(client_id=client_id))


def test_the_redirect_is_checked_before_anything_else() -> None:
    """A request broken in every other way still gets an error page, not a redirect."""
    hostile = params(redirect_uri="https://evil.example.com/", response_type="token", request="x")
    untrusted("The redirect_uri is not registered for this application.", hostile)


# parse: a good request -----------------------------------------------------------------------


def test_a_full_openid_request() -> None:
    given = params(
        scope="openid profile email profile openid",
        state="af0ifjsldkj",
        nonce="n-0S6_WzA2Mj",
        prompt="login consent",
        max_age="3600",
        login_hint="alice@example.com",
        ui_locales="de-CH de en",
        response_mode="query",
        display="page",  # ignored, as every unrecognised parameter
        acr_values="urn:x",
        unknown="whatever",
    )
    assert parse(given, CONFIDENTIAL, redirect_uri=REDIRECT) == AuthorizationRequest(
        client_id="web-app",
        redirect_uri=REDIRECT,
        scopes=("openid", "profile", "email"),
        state="af0ifjsldkj",
        nonce="n-0S6_WzA2Mj",
        prompt=frozenset({"login", "consent"}),
        max_age=3600,
        login_hint="alice@example.com",
        ui_locales=("de-CH", "de", "en"),
        code_challenge=CHALLENGE,
        openid=True,
    )


def test_a_minimal_request() -> None:
    assert parse(params(), CONFIDENTIAL, redirect_uri=REDIRECT) == AuthorizationRequest(
        client_id="web-app",
        redirect_uri=REDIRECT,
        scopes=(),
        state=None,
        nonce=None,
        prompt=frozenset(),
        max_age=None,
        login_hint=None,
        ui_locales=(),
        code_challenge=CHALLENGE,
        openid=False,
    )


def test_the_redirect_uri_given_is_the_one_kept() -> None:
    uri = "http://127.0.0.1:51004/native"
    assert parse(params(redirect_uri=uri), CONFIDENTIAL, redirect_uri=uri).redirect_uri == uri


def test_empty_values_count_as_omitted() -> None:
    """RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted"."""
    given = params(scope="", state="", nonce="", prompt="", max_age="", request="", response_mode="")
    request = parse(given, CONFIDENTIAL, redirect_uri=REDIRECT)
    assert (request.scopes, request.state, request.nonce, request.prompt, request.max_age) == (
        (),
        None,
        None,
        frozenset(),
        None,
    )


def test_scopes_keep_request_order_and_openid_is_optional() -> None:
    request = parse(params(scope="users:read  orders profile"), CONFIDENTIAL, redirect_uri=REDIRECT)
    assert request.scopes == ("users:read", "orders", "profile")
    assert request.openid is False


def test_offline_access_with_the_flag() -> None:
    request = parse(params(scope="openid offline_access"), CONFIDENTIAL, redirect_uri=REDIRECT)
    assert request.scopes == ("openid", "offline_access")


# parse: refused parameters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("request", errors.RequestNotSupported),
        ("request_uri", errors.RequestUriNotSupported),
        ("registration", errors.RegistrationNotSupported),
    ],
)
def test_request_objects_and_registration_are_not_supported(name: str, error: type[OAuthError]) -> None:
    refused(error, f"the {name} parameter is not supported", params(**{name: "eyJhbGciOiJub25lIn0.e30."}))


def test_response_type_required() -> None:
    refused(errors.InvalidRequest, "response_type required", params(response_type="<omit>"))


@pytest.mark.parametrize(
    "response_type",
    ["token", "id_token", "code id_token", "code token", "none", "CODE", "code ", " code", "Code"],
)
def test_only_response_type_code(response_type: str) -> None:
    refused(errors.UnsupportedResponseType, "response_type must be code", params(response_type=response_type))


def test_the_client_must_have_the_grant() -> None:
    machine = replace(CONFIDENTIAL, allowed_grant_types=[CLIENT_CREDENTIALS])
    refused(
        errors.UnauthorizedClient,
        "this client may not use the authorization code grant",
        params(),
        machine,
    )


@pytest.mark.parametrize("mode", ["fragment", "form_post", "query.jwt", "jwt", "QUERY", "query "])
def test_only_response_mode_query(mode: str) -> None:
    refused(errors.InvalidRequest, "response_mode must be query", params(response_mode=mode))


@pytest.mark.parametrize(
    "scope",
    [
        " ",
        "   ",
        "openid\tprofile",
        'openid "profile"',
        "openid pro\\file",
        "openid profilé",
        "openid\x00",
        "a\nb",
    ],
)
def test_malformed_scope(scope: str) -> None:
    refused(errors.InvalidScope, "scope is malformed (RFC 6749 section 3.3)", params(scope=scope))


@pytest.mark.parametrize(
    "scope",
    [
        "openid admin",
        "clients:write",
        "tenants:admin",
        "OPENID",
        "openid phone",
        "users:read users:write",
        "Orders",
    ],
)
def test_scopes_the_client_may_not_ask_for(scope: str) -> None:
    refused(errors.InvalidScope, "a requested scope is not allowed for this client", params(scope=scope))


def test_openid_needs_to_be_allowed_too() -> None:
    oauth_only = replace(CONFIDENTIAL, allowed_scopes=["orders"])
    refused(
        errors.InvalidScope,
        "a requested scope is not allowed for this client",
        params(scope="openid"),
        oauth_only,
    )


def test_offline_access_needs_the_flag() -> None:
    no_offline = replace(CONFIDENTIAL, allow_offline_access=False)
    refused(
        errors.InvalidScope,
        "offline_access is not allowed for this client",
        params(scope="openid offline_access"),
        no_offline,
    )


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("none", {"none"}),
        ("login", {"login"}),
        ("consent", {"consent"}),
        ("select_account", {"select_account"}),
        ("login consent select_account", {"login", "consent", "select_account"}),
        ("login  login", {"login"}),
        ("none none", {"none"}),
    ],
)
def test_prompt_values(prompt: str, expected: set[str]) -> None:
    assert parse(params(prompt=prompt), CONFIDENTIAL, redirect_uri=REDIRECT).prompt == frozenset(expected)


@pytest.mark.parametrize("prompt", ["create", "NONE", "login,consent", " ", "login\tconsent", "none\x00"])
def test_unknown_prompt_values(prompt: str) -> None:
    refused(
        errors.InvalidRequest,
        "prompt must be none, or any of login, consent and select_account",
        params(prompt=prompt),
    )


@pytest.mark.parametrize("prompt", ["none login", "consent none", "none select_account login"])
def test_prompt_none_stands_alone(prompt: str) -> None:
    """ "If this parameter contains none with any other value, an error is returned." (§3.1.2.1)"""
    refused(
        errors.InvalidRequest, "prompt none must not be combined with other values", params(prompt=prompt)
    )


@pytest.mark.parametrize(
    ("max_age", "expected"), [("0", 0), ("3600", 3600), ("0012", 12), ("9999999999", 9999999999)]
)
def test_max_age(max_age: str, expected: int) -> None:
    assert parse(params(max_age=max_age), CONFIDENTIAL, redirect_uri=REDIRECT).max_age == expected


@pytest.mark.parametrize(
    "max_age",
    ["-1", "+1", "1.5", "1e3", " 1", "1 ", "12345678901", "0x10", "٣", "３", "1_000", "abc", "\x001"],
)
def test_bad_max_age(max_age: str) -> None:
    refused(
        errors.InvalidRequest,
        "max_age must be a non-negative integer of at most 10 digits",
        params(max_age=max_age),
    )


@pytest.mark.parametrize("name", ["state", "nonce", "login_hint"])
def test_text_parameters_up_to_512_characters(name: str) -> None:
    value = "x" * 512
    request = parse(params(**{name: value}), CONFIDENTIAL, redirect_uri=REDIRECT)
    assert getattr(request, name) == value
    refused(errors.InvalidRequest, f"{name} must be at most 512 characters", params(**{name: "x" * 513}))


@pytest.mark.parametrize("name", ["state", "nonce", "login_hint"])
@pytest.mark.parametrize("value", ["a\x00b", "a\nb", "a\rb", "\x7f", "a\tb"])
def test_text_parameters_without_control_characters(name: str, value: str) -> None:
    refused(errors.InvalidRequest, f"{name} contains a control character", params(**{name: value}))


def test_text_parameters_keep_any_printable_text() -> None:
    state = 'ÄÖü 日本 "quoted" \\ <script>&amp;'
    request = parse(params(state=state, login_hint=state), CONFIDENTIAL, redirect_uri=REDIRECT)
    assert (request.state, request.login_hint) == (state, state)


@pytest.mark.parametrize(
    ("ui_locales", "expected"),
    [
        ("de", ("de",)),
        ("de-CH de en", ("de-CH", "de", "en")),
        ("zh-Hant-TW", ("zh-Hant-TW",)),
        ("en en", ("en",)),
        ("x-private", ("x-private",)),
    ],
)
def test_ui_locales(ui_locales: str, expected: tuple[str, ...]) -> None:
    assert parse(params(ui_locales=ui_locales), CONFIDENTIAL, redirect_uri=REDIRECT).ui_locales == expected


@pytest.mark.parametrize(
    "ui_locales",
    ["de_CH", "de,en", "123", "-de", "de-", "toolongtag", "de--CH", "dé", "de\ten", " ", "de;q=0.9"],
)
def test_bad_ui_locales(ui_locales: str) -> None:
    refused(
        errors.InvalidRequest,
        "ui_locales must be language tags separated by spaces, such as de-CH en",
        params(ui_locales=ui_locales),
    )


def test_ui_locales_up_to_255_characters() -> None:
    longest = " ".join(["de-CH"] * 42) + " deu"  # 255
    assert len(longest) == 255
    assert parse(params(ui_locales=longest), CONFIDENTIAL, redirect_uri=REDIRECT).ui_locales == (
        "de-CH",
        "deu",
    )
    refused(
        errors.InvalidRequest, "ui_locales must be at most 255 characters", params(ui_locales=longest + "x")
    )


# parse: PKCE ---------------------------------------------------------------------------------


@pytest.mark.parametrize("client", [CONFIDENTIAL, PUBLIC])
def test_pkce_is_required_by_default(client: ClientSpec) -> None:
    given = params(client_id=client.client_id, code_challenge="<omit>", code_challenge_method="<omit>")
    refused(errors.InvalidRequest, "code_challenge required", given, client)


def test_a_public_client_needs_pkce_even_with_allow_no_pkce() -> None:
    """validate() refuses that combination; the rule holds here whatever the record says."""
    public_no_pkce = replace(PUBLIC, allow_no_pkce=True)
    given = params(client_id="spa", code_challenge="<omit>", code_challenge_method="<omit>")
    refused(errors.InvalidRequest, "code_challenge required", given, public_no_pkce)


def test_allow_no_pkce_makes_it_optional_for_a_confidential_client() -> None:
    given = params(code_challenge="<omit>", code_challenge_method="<omit>")
    assert parse(given, NO_PKCE, redirect_uri=REDIRECT).code_challenge is None
    assert parse(params(), NO_PKCE, redirect_uri=REDIRECT).code_challenge == CHALLENGE


@pytest.mark.parametrize("client", [CONFIDENTIAL, NO_PKCE])
def test_plain_is_refused_even_when_pkce_is_optional(client: ClientSpec) -> None:
    refused(
        errors.InvalidRequest,
        "code_challenge_method plain is not supported; use S256",
        params(code_challenge_method="plain"),
        client,
    )
    refused(
        errors.InvalidRequest,
        "code_challenge_method is missing, which means plain; plain is not supported, use S256",
        params(code_challenge_method="<omit>"),
        client,
    )


def test_a_malformed_challenge() -> None:
    refused(
        errors.InvalidRequest,
        "code_challenge must be 43 base64url characters: BASE64URL(SHA256(code_verifier))",
        params(code_challenge="short"),
    )


# parse: which error comes first --------------------------------------------------------------


def test_errors_are_reported_in_a_fixed_order() -> None:
    given = params(
        response_type="token", scope="admin", prompt="bogus", max_age="-1", code_challenge_method="plain"
    )
    refused(errors.RequestNotSupported, "the request parameter is not supported", {**given, "request": "x"})
    refused(errors.UnsupportedResponseType, "response_type must be code", given)
    given["response_type"] = "code"
    refused(errors.InvalidScope, "a requested scope is not allowed for this client", given)
    given["scope"] = "openid"
    refused(errors.InvalidRequest, "prompt must be none, or any of login, consent and select_account", given)


# state_of ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"state": "xyz"}, "xyz"),
        ({"state": "x" * 512}, "x" * 512),
        ({"state": "x" * 513}, None),
        ({"state": "a\x00b"}, None),
        ({"state": "a\r\nLocation: https://evil.example.com"}, None),
        ({"state": "\x7f"}, None),
        ({"state": ""}, None),
        ({}, None),
        ({"state": 'ÄÖü "q" \\'}, 'ÄÖü "q" \\'),
    ],
)
def test_state_of(given: dict[str, str], expected: str | None) -> None:
    assert state_of(given) == expected


def test_state_is_echoed_even_when_parse_fails() -> None:
    given = params(response_type="token", state="s-123")
    with pytest.raises(errors.UnsupportedResponseType):
        parse(given, CONFIDENTIAL, redirect_uri=REDIRECT)
    assert state_of(given) == "s-123"
