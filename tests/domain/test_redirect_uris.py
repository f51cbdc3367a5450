"""RFC 9700 §2.1 exact redirect URI matching, the opt-in prefix rule, and registration checks."""

from __future__ import annotations

import pytest

from pforte.domain.oauth.redirect_uris import matches, registration_error

EXACT = "https://app.example.com/cb"
PREFIX = "https://app.example.com/cb/*"
ORIGIN_PREFIX = "https://app.example.com*"
NO_SLASH_PREFIX = "https://app.example.com/cb*"

# registration_error ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/cb",
        "https://app.example.com:8443/cb?tenant=acme",
        "https://app.example.com",
        "http://127.0.0.1/cb",
        "http://127.0.0.1:8080/cb",
        "http://localhost/cb",
        "http://localhost:3000/cb",
        "http://[::1]/cb",
        "http://[::1]:3000/cb",
        "com.example.app:/oauth2redirect",  # RFC 8252 §7.1 private-use scheme
    ],
)
def test_registrable(uri: str) -> None:
    assert registration_error(uri, allow_prefix=False) is None


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example.com/cb",
        "http://example.com",
        "http://127.0.0.2/cb",
        "http://localhost.example.com/cb",
        "http://10.0.0.1/cb",
        "http://[::2]/cb",
    ],
)
def test_http_only_for_loopback(uri: str) -> None:
    assert (
        registration_error(uri, allow_prefix=False) == "http: is allowed only for loopback hosts; use https:"
    )


SCHEME_ERROR = (
    "the scheme must be https:, http: on a loopback host, or a private-use scheme in "
    "reverse-domain form such as com.example.app: (RFC 8252 §7.1)"
)


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "javascript://app.example.com/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:,x",
        "file:///etc/passwd",
        "file://host/share",
        "vbscript:msgbox(1)",
        "ftp://app.example.com/cb",
        "ws://127.0.0.1/cb",
        "myapp:/oauth2redirect",  # a private-use scheme, but not in reverse-domain form
        "urn:ietf:wg:oauth:2.0:oob",
    ],
)
def test_only_web_and_reverse_domain_schemes_register(uri: str) -> None:
    """RFC 8252 §7: https (§7.2), loopback http (§7.3) or a private-use scheme "based on a domain
    name under their control, expressed in reverse order" (§7.1) — nothing a browser runs."""
    assert registration_error(uri, allow_prefix=False) == SCHEME_ERROR
    assert registration_error(uri, allow_prefix=True) == SCHEME_ERROR


def test_a_prefix_cannot_smuggle_a_forbidden_scheme() -> None:
    assert registration_error("javascript:alert(1)//*", allow_prefix=True) == SCHEME_ERROR


@pytest.mark.parametrize(
    "uri", ["com.example.app:/oauth2redirect", "com.example.app://callback", "io.github.user.app:/cb?x=1"]
)
def test_reverse_domain_private_use_schemes_register(uri: str) -> None:
    assert registration_error(uri, allow_prefix=False) is None


@pytest.mark.parametrize(
    ("uri", "error"),
    [
        ("https://rp.example.com/logout", None),
        ("http://127.0.0.1:9000/logout", None),
        ("http://localhost/logout", None),
        ("http://rp.example.com/logout", "http: is allowed only for loopback hosts; use https:"),
        ("com.example.app:/logout", "must be an https: URI (http: only for loopback hosts)"),
        ("javascript:alert(1)", "must be an https: URI (http: only for loopback hosts)"),
        ("file:///etc/passwd", "must be an https: URI (http: only for loopback hosts)"),
        ("https://rp.example.com/logout#x", "must not contain a fragment"),
    ],
)
def test_a_uri_the_server_calls_is_https_or_loopback_http_only(uri: str, error: str | None) -> None:
    """The back-channel logout URI: server to server, so no app scheme."""
    assert registration_error(uri, allow_prefix=False, allow_private_scheme=False) == error


@pytest.mark.parametrize("uri", ["https://app.example.com/cb#x", "https://app.example.com/cb#"])
def test_fragments_are_rejected_at_registration(uri: str) -> None:
    assert registration_error(uri, allow_prefix=False) == "must not contain a fragment"


def test_a_prefix_entry_needs_the_opt_in() -> None:
    assert (
        registration_error(PREFIX, allow_prefix=False)
        == "a prefix entry ending in '*' needs allowRedirectUriPrefix: true"
    )
    assert registration_error(PREFIX, allow_prefix=True) is None
    assert registration_error(NO_SLASH_PREFIX, allow_prefix=True) is None


@pytest.mark.parametrize(
    ("uri", "allow_prefix"),
    [
        ("https://*.example.com/cb", False),
        ("https://*.example.com/cb", True),
        ("https://*.example.com/cb*", True),
        ("https://app.example.com/*/cb", True),
        ("https://app.example.com/**", True),
    ],
)
def test_star_only_as_the_last_character(uri: str, allow_prefix: bool) -> None:
    assert (
        registration_error(uri, allow_prefix=allow_prefix)
        == "'*' is allowed only as the last character of a prefix entry"
    )


@pytest.mark.parametrize(
    ("uri", "error"),
    [
        ("/cb", "must be an absolute URI"),
        ("app.example.com/cb", "must be an absolute URI"),
        ("https:///cb", "must be an absolute URI"),
        ("", "must be an absolute URI"),
        ("https://user@app.example.com/cb", "must not contain userinfo"),
        ("https://user:pw@app.example.com/cb", "must not contain userinfo"),
        ("https://app.example.com/c b", "must not contain whitespace"),
        ("https://app.example.com/cb\n", "must not contain whitespace"),
        ("https://app.example.com:99999/cb", "is not a valid URI"),
        ("https://app.example.com:port/cb", "is not a valid URI"),
    ],
)
def test_other_registration_errors(uri: str, error: str) -> None:
    assert registration_error(uri, allow_prefix=False) == error


# matches: exact entries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        (EXACT, True),
        ("https://app.example.com/cb/", False),
        ("https://app.example.com/CB", False),
        ("https://app.example.com/Cb", False),
        ("https://app.example.com/cb?x=1", False),
        ("https://app.example.com/cb#x", False),
        ("https://app.example.com/cb/x", False),
        ("https://app.example.com/c", False),
        ("https://app.example.com:443/cb", False),
        ("http://app.example.com/cb", False),
        ("https://app.example.com/cb ", False),
        ("", False),
    ],
)
def test_exact_entries_match_only_the_same_string(candidate: str, expected: bool) -> None:
    assert matches([EXACT], candidate) is expected


def test_no_entries_match_nothing() -> None:
    assert matches([], EXACT) is False


def test_any_entry_may_match() -> None:
    registered = ["https://one.example.com/cb", EXACT]
    assert matches(registered, EXACT) is True
    assert matches(registered, "https://one.example.com/cb") is True
    assert matches(registered, "https://two.example.com/cb") is False


def test_a_star_in_an_exact_candidate_is_not_a_wildcard() -> None:
    """An entry without a trailing '*' matches only itself, even when the candidate has one."""
    assert matches([EXACT], EXACT + "*") is False


# matches: prefix entries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("https://app.example.com/cb/x", True),
        ("https://app.example.com/cb/", True),
        ("https://app.example.com/cb/x/y?state=1", True),
        ("https://app.example.com/cb", False),
        ("https://app.example.com.evil.com/cb/x", False),
        ("https://app.example.com:444/cb/x", False),
        ("http://app.example.com/cb/x", False),
        ("https://app.example.com@evil.com/cb/x", False),
        ("https://user@app.example.com/cb/x", False),
        ("https://app.example.com/cb/x#frag", False),
        ("https://app.example.com/cb/x#", False),
        ("https://app.example.com/cb/../admin", False),
        ("https://app.example.com/cb/%2e%2e/admin", False),
        ("https://app.example.com/cb/%2E%2E/admin", False),
        ("https://app.example.com/cb/.%2e/admin", False),
        ("https://app.example.com/cb/./x", False),
        ("https://app.example.com/cb/..", False),
        ("https://app.example.com/cb/x/%2e", False),
    ],
)
def test_prefix_entry(candidate: str, expected: bool) -> None:
    assert matches([PREFIX], candidate) is expected


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("https://app.example.com/cb", True),
        ("https://app.example.com/cb/x", True),
        ("https://app.example.com/cb?x=1", True),
        ("https://app.example.com/cbx", False),
        ("https://app.example.com/cb-admin", False),
        ("https://app.example.com/cb.evil", False),
        ("https://app.example.com/c", False),
    ],
)
def test_prefix_path_ends_at_a_slash_boundary(candidate: str, expected: bool) -> None:
    assert matches([NO_SLASH_PREFIX], candidate) is expected


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("https://app.example.com", True),
        ("https://app.example.com/", True),
        ("https://app.example.com/anything", True),
        # Each of these starts with the string "https://app.example.com" but is another origin.
        ("https://app.example.com.evil.com/cb", False),
        ("https://app.example.comevil.com/cb", False),
        ("https://app.example.com:444/cb", False),
        ("https://app.example.com:443/cb", False),
        ("https://app.example.com@evil.com/cb", False),
        ("https://app.example.com:pw@evil.com/cb", False),
        ("https://app.example.com:99999/cb", False),
    ],
)
def test_prefix_never_crosses_the_origin(candidate: str, expected: bool) -> None:
    assert matches([ORIGIN_PREFIX], candidate) is expected


def test_loopback_prefix_keeps_the_port() -> None:
    registered = ["http://127.0.0.1:8080/cb/*"]
    assert matches(registered, "http://127.0.0.1:8080/cb/done") is True
    assert matches(registered, "http://127.0.0.1:8081/cb/done") is False
    assert matches(registered, "http://localhost:8080/cb/done") is False


@pytest.mark.parametrize(
    "candidate",
    [
        "https://app.example.com/cb/..\\admin",
        "https://app.example.com/cb/x\\..\\..\\admin",
        "https://app.example.com/cb\\..\\admin",
    ],
)
def test_prefix_entry_refuses_backslash_dot_segments(candidate: str) -> None:
    """Browsers parse ``\\`` as ``/`` in http(s) URLs (WHATWG URL Standard, path state), so
    ``/cb/..\\admin`` is followed as ``/admin``: a way out of the registered path."""
    assert matches([PREFIX], candidate) is False


# matches: RFC 8252 §7.3 loopback IP literals, any port ----------------------------------------

LOOPBACK_V4 = "http://127.0.0.1/cb"
LOOPBACK_V4_PORT = "http://127.0.0.1:8080/cb"
LOOPBACK_V6 = "http://[::1]/cb"


@pytest.mark.parametrize(
    ("registered", "candidate"),
    [
        (LOOPBACK_V4, "http://127.0.0.1:51004/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:1/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:65535/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:10000/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:80/cb"),
        (LOOPBACK_V4_PORT, "http://127.0.0.1:61023/cb"),
        (LOOPBACK_V4_PORT, "http://127.0.0.1/cb"),
        (LOOPBACK_V6, "http://[::1]:61023/cb"),
        ("http://[::1]:3000/cb", "http://[::1]/cb"),
        ("http://127.0.0.1", "http://127.0.0.1:5000"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:50000"),
        ("http://127.0.0.1/", "http://127.0.0.1:5000/"),
        ("http://127.0.0.1/cb?x=1&y=2", "http://127.0.0.1:5000/cb?x=1&y=2"),
        ("http://127.0.0.1?x=1", "http://127.0.0.1:5000?x=1"),
        (
            "http://127.0.0.1:8080/oauth2redirect/example-provider",
            "http://127.0.0.1:51004/oauth2redirect/example-provider",
        ),
    ],
)
def test_a_loopback_ip_entry_matches_any_port(registered: str, candidate: str) -> None:
    """ "The authorization server MUST allow any port to be specified at the time of the request
    for loopback IP redirect URIs" (RFC 8252 §7.3)."""
    assert matches([registered], candidate) is True


@pytest.mark.parametrize(
    ("registered", "candidate"),
    [
        # the path, query and everything else still compare exactly
        (LOOPBACK_V4, "http://127.0.0.1:5000/cb/"),
        (LOOPBACK_V4, "http://127.0.0.1:5000/CB"),
        (LOOPBACK_V4, "http://127.0.0.1:5000/cb/x"),
        (LOOPBACK_V4, "http://127.0.0.1:5000/c"),
        (LOOPBACK_V4, "http://127.0.0.1:5000/cb?x=1"),
        (LOOPBACK_V4, "http://127.0.0.1:5000/cb#x"),
        (LOOPBACK_V4, "http://127.0.0.1:5000/cb#"),
        (LOOPBACK_V4, "http://127.0.0.1:5000/cb "),
        (LOOPBACK_V4, "http://127.0.0.1:5000/cb\n"),
        (LOOPBACK_V4, "http://127.0.0.1:5000/cb/../cb"),
        ("http://127.0.0.1/cb?x=1", "http://127.0.0.1:5000/cb?x=2"),
        ("http://127.0.0.1/cb?x=1", "http://127.0.0.1:5000/cb?x=1&y=2"),
        # the scheme
        (LOOPBACK_V4, "https://127.0.0.1:5000/cb"),
        (LOOPBACK_V4, "HTTP://127.0.0.1:5000/cb"),
        (LOOPBACK_V4, "ws://127.0.0.1:5000/cb"),
        # the host: the same literal, never another address or a name
        (LOOPBACK_V4, "http://[::1]:5000/cb"),
        (LOOPBACK_V6, "http://127.0.0.1:5000/cb"),
        (LOOPBACK_V4, "http://localhost:5000/cb"),
        (LOOPBACK_V4, "http://127.0.0.2:5000/cb"),
        (LOOPBACK_V4, "http://127.1:5000/cb"),
        (LOOPBACK_V4, "http://2130706433:5000/cb"),
        (LOOPBACK_V4, "http://0x7f000001:5000/cb"),
        (LOOPBACK_V4, "http://127.0.0.1.evil.com:5000/cb"),
        (LOOPBACK_V4, "http://127.0.0.1.evil.com/cb"),
        (LOOPBACK_V6, "http://[0:0:0:0:0:0:0:1]:5000/cb"),
        (LOOPBACK_V6, "http://[::ffff:127.0.0.1]:5000/cb"),
        # userinfo and other authority tricks
        (LOOPBACK_V4, "http://127.0.0.1:5000@evil.com/cb"),
        (LOOPBACK_V4, "http://127.0.0.1@evil.com/cb"),
        (LOOPBACK_V4, "http://user@127.0.0.1:5000/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:5000\\@evil.com/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:5000:6000/cb"),
        # ports that are not ports
        (LOOPBACK_V4, "http://127.0.0.1:/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:0/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:08080/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:65536/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:99999/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:123456/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:-1/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:+80/cb"),
        (LOOPBACK_V4, "http://127.0.0.1: 80/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:٨٠/cb"),
        (LOOPBACK_V4, "http://127.0.0.1:port/cb"),
        ("http://127.0.0.1", "http://127.0.0.1:5000/"),
    ],
)
def test_a_loopback_ip_entry_relaxes_only_the_port(registered: str, candidate: str) -> None:
    assert matches([registered], candidate) is False


@pytest.mark.parametrize(
    ("registered", "candidate"),
    [
        # "localhost" is a name, not a loopback IP literal (RFC 8252 §8.3): exact matching
        ("http://localhost/cb", "http://localhost:5000/cb"),
        ("http://localhost:3000/cb", "http://localhost:3001/cb"),
        # https and other hosts keep their port
        ("https://127.0.0.1/cb", "https://127.0.0.1:5000/cb"),
        ("https://app.example.com/cb", "https://app.example.com:5000/cb"),
        ("http://127.0.0.2/cb", "http://127.0.0.2:5000/cb"),
        # an entry that is not a plain loopback URI is only ever itself
        ("http://127.0.0.1:08080/cb", "http://127.0.0.1:8080/cb"),
        ("http://127.0.0.1:/cb", "http://127.0.0.1:5000/cb"),
    ],
)
def test_only_loopback_ip_literals_relax_the_port(registered: str, candidate: str) -> None:
    assert matches([registered], candidate) is False
    assert matches([registered], registered) is True


def test_a_loopback_prefix_entry_is_not_relaxed() -> None:
    """RFC 8252 §7.3 concerns exact entries; a prefix entry keeps comparing its port."""
    assert matches(["http://127.0.0.1:8080/cb/*"], "http://127.0.0.1:9090/cb/x") is False
    assert matches(["http://127.0.0.1/cb/*"], "http://127.0.0.1:9090/cb/x") is False


def test_a_loopback_entry_among_others() -> None:
    registered = [EXACT, LOOPBACK_V4_PORT]
    assert matches(registered, "http://127.0.0.1:4000/cb") is True
    assert matches(registered, "https://app.example.com:4000/cb") is False
    assert matches(tuple(registered), "http://127.0.0.1:4000/cb") is True
