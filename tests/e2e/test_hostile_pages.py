"""Hostile input at the sign-in pages and userinfo of a real ``pforte serve``, on SQLite and on
PostgreSQL: ``/authorize`` (query and form), ``/sign-in``, ``/password``, ``/consent``,
``/logout`` and ``/userinfo``. Every answer is the documented 4xx — or the page (200) or redirect (303) that
simply ignores what it does not need — never a 5xx, and the server's stdout and stderr hold no
traceback and no logged crash (checked when the module's server stops). Nothing hostile signs
anyone in, remembers a consent or ends a session.

The cases: huge values and bodies (over the 16 KiB form limit), invalid UTF-8 and broken
percent-encoding, NUL and other control characters, repeated parameters, wrong content types
(JSON, multipart, none), empty bodies, unknown and malformed tenants, very long and garbled
cookies, and a forged, garbled or foreign ``request`` sealed field and CSRF token. Bytes that
httpx would escape (raw non-ASCII in the request line and the headers) go over a raw socket.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import httpx
import pytest

from pforte.store.tables import AuditEventRow, ConsentRow, SessionRow
from tests.e2e import apps
from tests.e2e.conftest import Server, Servers, base_env
from tests.protocol.flow import pkce_pair

pytestmark = pytest.mark.e2e

TENANT = "hostile"
CLIENT_ID = "app"
REDIRECT = "https://app.example.com/cb"
BYE = "https://app.example.com/bye"
USERNAME, PASSWORD = "mallory", "a long enough password"
FORM_TYPE = b"application/x-www-form-urlencoded"
FORM = {"Content-Type": FORM_TYPE.decode()}
HUGE = "x" * (17 * 1024)  # past the pages' 16 KiB form limit
AUTHORIZE = f"/t/{TENANT}/authorize"
SIGN_IN = f"/t/{TENANT}/sign-in"
NEW_PASSWORD = f"/t/{TENANT}/password"
CONSENT = f"/t/{TENANT}/consent"
LOGOUT = f"/t/{TENANT}/logout"
USERINFO = f"/t/{TENANT}/userinfo"
PAGES = ("authorize", "sign-in", "password", "consent", "logout", "userinfo")
# A form posted to a tenant that does not exist: the forms' CSRF check comes first (403); the
# userinfo request carries no token (401); the others name no tenant (404).
UNKNOWN_TENANT = {"sign-in": 403, "password": 403, "consent": 403, "userinfo": 401}


@dataclass
class Target:
    """A server on one database, with a tenant, a confidential application that asks for
    consent, and a user; and a well-formed authorization request to take apart."""

    server: Server
    good: dict[str, str]

    @property
    def query(self) -> str:
        return urlencode(self.good)

    def sessions(self) -> int:
        return apps.count_rows(self.server.env["PFORTE_DATABASE_URL"], SessionRow)


@dataclass
class Expected:
    """Each answer of a test and the status it must have, compared at the end, all at once."""

    cases: list[tuple[str, int, httpx.Response]] = field(default_factory=list)

    def check(self, name: str, status: int, response: httpx.Response) -> None:
        self.cases.append((name, status, response))

    def verify(self) -> None:
        wrong = [
            (name, want, r.status_code, r.text[:300]) for name, want, r in self.cases if r.status_code != want
        ]
        assert wrong == [], "\n".join(map(str, wrong))


@pytest.fixture(scope="module", params=apps.DATABASES)
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    pool = Servers(tmp_path_factory.mktemp(f"hostile-pages-{request.param}"))
    workdir = pool.workdir()
    with apps.database(request.param, workdir) as url:
        try:
            server = pool.start(workdir, base_env(workdir, PFORTE_DATABASE_URL=url))
            with apps.admin_http(server) as admin:
                apps.create_tenant(admin, TENANT)
                apps.create_client(
                    admin,
                    TENANT,
                    CLIENT_ID,
                    allowedGrantTypes=["authorization_code"],
                    allowedScopes=["openid", "profile", "email"],
                    redirectUris=[REDIRECT],
                    postLogoutRedirectUris=[BYE],
                    requireConsent=True,
                )
            apps.create_user(server, TENANT, USERNAME, PASSWORD)
            _, challenge = pkce_pair()
            good = {
                "response_type": "code",
                "client_id": CLIENT_ID,
                "redirect_uri": REDIRECT,
                "scope": "openid",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
            yield Target(server, good)
            server.stop()  # flushes and closes the output files
            output = server.stdout() + server.stderr()
            assert "Traceback" not in output, output[-3000:]
            assert "unhandled error" not in output
            assert "protocol_endpoint_failed" not in output
            assert "0x00" not in output and "invalid byte sequence" not in output
        finally:
            pool.stop_all()  # before the database goes away


@dataclass
class Browser:
    """A browser that has the sign-in page open: its cookies and the page's form."""

    http: httpx.Client
    fields: dict[str, str]  # csrf_token and request, as the page holds them

    @property
    def csrf(self) -> str:
        return self.fields["csrf_token"]

    @property
    def sealed(self) -> str:
        return self.fields["request"]

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        return self.http.post(path, data=data)


def open_sign_in_page(http: httpx.Client) -> Browser:
    _, challenge = pkce_pair()
    page = http.get(apps.authorize_url("", TENANT, CLIENT_ID, REDIRECT, challenge, state="s"))
    assert page.status_code == 200, page.text
    action, fields = apps.filled_form(page.text)
    assert set(fields) >= {"csrf_token", "request"} and action == SIGN_IN
    return Browser(http, fields)


def raw(server: Server, head: bytes, body: bytes = b"") -> httpx.Response:
    """Send exactly these bytes (the request line and headers, then ``body``) and read the
    answer's status; 0 when the server closed the connection without one."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(head + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" + body)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    status_line = received.split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 else 0
    return httpx.Response(status, content=received)


def test_the_authorization_request_in_the_query(target: Target) -> None:
    expected, query = Expected(), target.query
    check = expected.check
    with target.server.http() as http:
        check("NUL in client_id", 400, http.get(f"{AUTHORIZE}?{query}&client_id=app%00"))
        check("NUL in state", 400, http.get(f"{AUTHORIZE}?{query}&state=a%00b"))
        check("control in scope", 400, http.get(f"{AUTHORIZE}?{query.replace('openid', 'open%01id')}"))
        check("DEL in nonce", 400, http.get(f"{AUTHORIZE}?{query}&nonce=%7F"))
        check("repeated client_id", 400, http.get(f"{AUTHORIZE}?{query}&client_id=app"))
        check("repeated state", 400, http.get(f"{AUTHORIZE}?{query}&state=a&state=b"))
        check("broken percent-encoding", 400, http.get(f"{AUTHORIZE}?client_id=%ZZ&redirect_uri=%"))
        check("invalid UTF-8 escaped", 400, http.get(f"{AUTHORIZE}?{query.replace('app', '%FF%FE', 1)}"))
        check("unknown client", 400, http.get(f"{AUTHORIZE}?{query.replace('app', 'nobody', 1)}"))
        check("huge client_id", 400, http.get(f"{AUTHORIZE}?client_id={'a' * 4000}"))
        check("no parameters", 400, http.get(AUTHORIZE))
        check("too many parameters", 400, http.get(f"{AUTHORIZE}?" + "&".join(f"p{i}=1" for i in range(40))))
        # After the redirect URI is trusted, errors go back to the client.
        for name, extra in (
            ("huge state", {"state": "s" * 600}),
            ("huge nonce", {"nonce": "n" * 600}),
            ("huge login_hint", {"login_hint": "h" * 600}),
            ("huge ui_locales", {"ui_locales": "de-" * 200}),
            ("bad max_age", {"max_age": "9" * 40}),
            ("bad prompt", {"prompt": "none login"}),
            ("request object", {"request": "eyJhbGciOiJub25lIn0.e30."}),
            ("plain PKCE", {"code_challenge_method": "plain"}),
            ("short challenge", {"code_challenge": "abc"}),
        ):
            answer = http.get(f"{AUTHORIZE}?{urlencode({**target.good, **extra})}")
            check(name, 303, answer)
            assert "error=" in answer.headers.get("location", ""), (name, answer.headers)
        check("long unknown parameter", 200, http.get(f"{AUTHORIZE}?{query}&junk={'j' * 4000}"))
        garbled_languages = {"Accept-Language": "de;q=x, *;q=-1, en;q=1e999," * 200}
        check("garbled Accept-Language", 200, http.get(f"{AUTHORIZE}?{query}", headers=garbled_languages))
        for cookie in ("x" * 100, "x" * 101, "%00%FF", "a b", '"q"', "c" * 8000):
            answer = http.get(f"{AUTHORIZE}?{query}", headers={"Cookie": f"pforte_session={cookie}"})
            check(f"session cookie {cookie[:6]!r}", 200, answer)  # no session: the sign-in page
    expected.verify()


def test_the_authorization_request_as_a_form(target: Target) -> None:
    expected, query = Expected(), target.query
    check = expected.check
    with target.server.http() as http:
        check("form", 200, http.post(AUTHORIZE, content=query, headers=FORM))
        check("JSON", 400, http.post(AUTHORIZE, json=target.good))
        check("multipart", 400, http.post(AUTHORIZE, data=target.good, files={"f": b"x"}))
        check("no content type", 400, http.post(AUTHORIZE, content=query.encode()))
        check("empty body", 400, http.post(AUTHORIZE, content=b"", headers=FORM))
        check("over 16 KiB", 400, http.post(AUTHORIZE, content=f"{query}&junk={HUGE}", headers=FORM))
        check("invalid UTF-8", 400, http.post(AUTHORIZE, content=b"client_id=\xff\xfe", headers=FORM))
        check("raw NUL", 400, http.post(AUTHORIZE, content=f"{query}&state=\x00", headers=FORM))
        check("repeated", 400, http.post(AUTHORIZE, content=f"{query}&{query}", headers=FORM))
    expected.verify()


def test_unknown_and_malformed_tenants_at_every_page(target: Target) -> None:
    expected = Expected()
    with target.server.http() as http:
        for page in PAGES:
            for slug in ("nobody", "bad%00slug", "x" * 300, "%FF%FE", "UPPER"):
                answer = http.post(f"/t/{slug}/{page}", content=target.query, headers=FORM)
                expected.check(f"{page}: tenant {slug[:12]!r}", UNKNOWN_TENANT.get(page, 404), answer)
        expected.check("authorize GET", 404, http.get(f"/t/nobody/authorize?{target.query}"))
        expected.check("logout GET", 404, http.get("/t/nobody/logout"))
        expected.check(
            "userinfo GET", 404, http.get("/t/nobody/userinfo", headers={"Authorization": "Bearer x"})
        )
    expected.verify()


def test_forged_and_garbled_sign_in_and_consent_forms_sign_no_one_in(target: Target) -> None:
    expected, before = Expected(), target.sessions()
    check = expected.check
    with target.server.http() as http:
        browser = open_sign_in_page(http)
        form = {**browser.fields, "username": USERNAME, "password": "wrong"}
        for path in (SIGN_IN, NEW_PASSWORD, CONSENT):
            page = path.rsplit("/", 1)[1]
            check(f"{page}: empty body", 403, http.post(path, content=b"", headers=FORM))
            check(f"{page}: JSON", 400, http.post(path, json=form))
            check(f"{page}: multipart", 400, http.post(path, data=form, files={"f": b"x"}))
            check(f"{page}: over 16 KiB", 400, browser.post(path, {**form, "username": HUGE}))
            check(f"{page}: invalid UTF-8", 400, http.post(path, content=b"username=\xff", headers=FORM))
            check(f"{page}: NUL", 400, browser.post(path, {**form, "username": "mall\x00ory"}))
            check(f"{page}: control character", 400, browser.post(path, {**form, "password": "x\x1bx"}))
            repeated = urlencode(form) + "&csrf_token=" + quote(browser.csrf)
            check(f"{page}: repeated csrf_token", 400, http.post(path, content=repeated, headers=FORM))
            without_csrf = {k: v for k, v in form.items() if k != "csrf_token"}
            check(f"{page}: no csrf_token", 403, browser.post(path, without_csrf))
            check(f"{page}: wrong csrf_token", 403, browser.post(path, {**form, "csrf_token": "A" * 43}))
            check(
                f"{page}: no request",
                400,
                browser.post(path, {k: v for k, v in form.items() if k != "request"}),
            )
            for name, sealed in (
                ("garbled", browser.sealed[:-8] + "AAAAAAAA"),
                ("truncated", browser.sealed[:20]),
                ("not base64", "%%%not-base64%%%"),
                ("non-ASCII", "r\u00e9quest-\u2603"),
                ("short", "QUJD"),
                ("empty JSON sealed by nobody", "e30="),
                ("huge", "A" * 9000),
            ):
                check(f"{page}: {name} request", 400, browser.post(path, {**form, "request": sealed}))
            # Another browser's form: its cookie is not the one the request was sealed to.
            with target.server.http() as other:
                check(f"{page}: another browser's form", 403, other.post(path, data=form))
                other.cookies.set("pforte_csrf", "B" * 43, path=f"/t/{TENANT}")
                forged = {**form, "csrf_token": "B" * 43}
                check(f"{page}: csrf cookie and token forged alike", 400, other.post(path, data=forged))
                other.cookies.set("pforte_csrf", "C" * 5000, path=f"/t/{TENANT}")
                long_csrf = {**form, "csrf_token": "C" * 5000}
                check(f"{page}: very long csrf cookie", 403, other.post(path, data=long_csrf))
        # The form itself with hostile credentials: the page again, nobody signed in.
        for name, username, password in (
            ("long username", "u" * 5000, "p"),
            ("long password", USERNAME, "p" * 5000),
            ("unicode username", "m\u0430llory\u200b", PASSWORD),
            ("username with spaces", f" {USERNAME} ", PASSWORD),
        ):
            answer = browser.post(SIGN_IN, {**form, "username": username, "password": password})
            check(f"sign-in: {name}", 200, answer)
            assert "Invalid username or password." in answer.text
        check("consent: not signed in", 200, browser.post(CONSENT, {**form, "decision": "allow"}))
        assert "pforte_session" not in http.cookies
    expected.verify()
    assert target.sessions() == before


def test_hostile_consent_and_logout_forms_of_a_signed_in_browser_change_nothing(target: Target) -> None:
    expected, url = Expected(), target.server.env["PFORTE_DATABASE_URL"]
    check = expected.check
    with target.server.http() as http:
        browser = open_sign_in_page(http)
        consent_page = browser.post(SIGN_IN, {**browser.fields, "username": USERNAME, "password": PASSWORD})
        assert "wants to access your account" in consent_page.text
        action, consent_form = apps.filled_form(consent_page.text)
        session = http.cookies["pforte_session"]
        signed_in = target.sessions()
        for decision in ("ALLOW", "allow ", "\u00e4", "d" * 1000):
            answer = browser.post(action, {**consent_form, "decision": decision, "remember": "yes" * 100})
            check(f"consent: decision {decision[:8]!r}", 303, answer)
            assert "error=access_denied" in answer.headers["location"], answer.headers
        huge_max_age = f"{AUTHORIZE}?{target.query}&max_age=9999999999&prompt=consent"
        check("authorize: max_age huge", 200, http.get(huge_max_age))

        for name, params in (
            ("garbled id_token_hint", {"id_token_hint": "a.b.c"}),
            ("huge id_token_hint", {"id_token_hint": "e" * 9000}),
            ("non-JWT id_token_hint", {"id_token_hint": "\u00e4"}),
            (
                "unregistered target",
                {"client_id": CLIENT_ID, "post_logout_redirect_uri": "https://evil.example/"},
            ),
            ("target without client", {"post_logout_redirect_uri": BYE}),
            ("unknown client", {"client_id": "nobody", "post_logout_redirect_uri": BYE}),
        ):
            check(f"logout GET: {name}", 400, http.get(LOGOUT, params=params))
            check(f"logout POST: {name}", 400, browser.post(LOGOUT, params))
        check("logout GET: NUL", 400, http.get(f"{LOGOUT}?state=%00"))
        check("logout GET: repeated", 400, http.get(f"{LOGOUT}?state=a&state=b"))
        check("logout GET: invalid UTF-8, ignored", 200, http.get(f"{LOGOUT}?client_id=%FF"))
        check("logout POST: JSON", 400, http.post(LOGOUT, json={"state": "x"}))
        check("logout POST: multipart", 400, http.post(LOGOUT, data={"state": "x"}, files={"f": b"x"}))
        check("logout POST: over 16 KiB", 400, browser.post(LOGOUT, {"state": HUGE}))
        check("logout POST: invalid UTF-8", 400, http.post(LOGOUT, content=b"state=\xff", headers=FORM))
        check("logout GET: no parameters", 200, http.get(LOGOUT))  # asks to confirm
        check("logout GET: huge ui_locales", 200, http.get(LOGOUT, params={"ui_locales": "de " * 300}))
        for name, data, status in (
            ("no csrf_token", {"request": "x"}, 403),
            ("wrong csrf_token", {"request": "x", "csrf_token": "A" * 43}, 403),
            ("garbled request", {"request": browser.sealed[:-4] + "AAAA", "csrf_token": browser.csrf}, 400),
            ("huge request", {"request": "A" * 9000, "csrf_token": browser.csrf}, 400),
            ("decision alone", {"decision": "yes"}, 403),
        ):
            check(f"logout confirm: {name}", status, browser.post(LOGOUT, data))
        # Still signed in (else login_required), and no consent was remembered.
        assert http.cookies["pforte_session"] == session
        silent = http.get(f"{AUTHORIZE}?{target.query}&prompt=none")
        assert silent.status_code == 303 and "error=consent_required" in silent.headers["location"]
    expected.verify()
    assert target.sessions() == signed_in
    assert apps.count_rows(url, ConsentRow) == 0
    assert apps.count_rows(url, AuditEventRow, AuditEventRow.name == "user.signed_out") == 0


def test_hostile_userinfo_requests(target: Target) -> None:
    expected = Expected()
    check = expected.check
    with target.server.http() as http:
        for name, headers in (
            ("no token", {}),
            ("bare bearer", {"Authorization": "Bearer"}),
            ("basic", {"Authorization": "Basic YTpi"}),
            ("garbled token", {"Authorization": "Bearer a.b.c"}),
            ("huge token", {"Authorization": "Bearer " + "t" * 9000}),
            ("control in token", {"Authorization": "Bearer a\tb"}),
        ):
            check(f"GET: {name}", 401, http.get(USERINFO, headers=headers))
        check("NUL in form", 400, http.post(USERINFO, content="access_token=a%00b", headers=FORM))
        check("invalid UTF-8", 400, http.post(USERINFO, content=b"access_token=\xff", headers=FORM))
        check("repeated", 400, http.post(USERINFO, content="access_token=a&access_token=b", headers=FORM))
        both = {**FORM, "Authorization": "Bearer b"}
        check("header and form", 400, http.post(USERINFO, content="access_token=a", headers=both))
        check("over the limit", 401, http.post(USERINFO, content=f"access_token={HUGE}", headers=FORM))
        check("empty", 401, http.post(USERINFO, content=b"", headers=FORM))
        check("JSON", 401, http.post(USERINFO, json={"access_token": "a"}))
        check("multipart", 401, http.post(USERINFO, data={"access_token": "a"}, files={"f": b"x"}))
    expected.verify()


def test_bytes_httpx_would_not_send_as_they_are(target: Target) -> None:
    expected, server = Expected(), target.server
    check = expected.check
    authorize = f"GET {AUTHORIZE}?{target.query} HTTP/1.1".encode()
    check(
        "non-ASCII in the query",
        400,
        raw(server, f"GET {AUTHORIZE}?client_id=".encode() + b"\xff\xfe HTTP/1.1"),
    )
    check("non-ASCII in the path", 400, raw(server, b"GET /t/\xc3\xa4/authorize HTTP/1.1"))
    check("invalid UTF-8 in the path", 400, raw(server, b"GET /t/\xff/logout HTTP/1.1"))
    check(
        "non-ASCII cookies",
        200,
        raw(server, authorize + b"\r\nCookie: pforte_csrf=\xe4\xf6; pforte_session=\xff"),
    )
    check("very long cookie header", 200, raw(server, authorize + b"\r\nCookie: c=" + b"v" * 60000))
    bearer = f"GET {USERINFO} HTTP/1.1\r\nAuthorization: Bearer ".encode()
    check("non-ASCII bearer token", 401, raw(server, bearer + b"\xe4\xf6\xfc"))
    check("blank bearer token", 401, raw(server, bearer + b" \t "))
    chunked = f"POST {SIGN_IN} HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Type: ".encode() + FORM_TYPE
    chunks = b"".join(b"1000\r\n" + b"x" * 4096 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"
    check("chunked form over 16 KiB", 400, raw(server, chunked, chunks))
    expected.verify()


def test_a_request_the_sign_in_form_cannot_carry_is_refused_before_the_password(target: Target) -> None:
    """Unrecognised parameters are ignored (RFC 6749 §3.1), so the form works whatever they
    hold; a request whose own values are too long for the form is refused at once."""
    with target.server.http() as http:
        page = http.get(f"{AUTHORIZE}?{target.query}&junk={'j' * 7000}")
        assert page.status_code == 200, page.text[:500]
        action, fields = apps.filled_form(page.text, username=USERNAME, password=PASSWORD)
        assert len(fields["request"]) < 2000  # the junk is not carried
        answer = http.post(action, data=fields)
        assert "wants to access your account" in answer.text, answer.text[:500]
        huge = http.get(f"{AUTHORIZE}?{target.query}&nonce={'n' * 7000}", follow_redirects=False)
        assert huge.status_code == 303
        assert "error=invalid_request" in huge.headers["location"]
