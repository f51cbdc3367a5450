"""People sign in while everything happens at once, on two real ``pforte serve`` processes that
share one database (SQLite and PostgreSQL). Each race is released by a barrier, its requests
split between the two processes, and the stored state is checked afterwards:

- one authorization code exchanged N times at once: one 200, N-1 ``invalid_grant``, and the
  replays revoke what the first exchange issued (its access token and its refresh tokens);
- one refresh token used N times at once: one rotation, N-1 reuses, the family revoked;
- one user signing in from N browsers at once: N sessions, N codes, each exchanged once;
- a user disabled while their refresh tokens are being used: no refresh succeeds afterwards,
  none of their refresh tokens is left live, and their access tokens are refused;
- a user disabled behind process A's back (by the services on the shared database): A refuses
  their access token within a second, having learnt it through the change feed alone.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import httpx
import jwt
import pytest
from sqlalchemy.sql import ColumnElement

from pforte.domain.errors import Unavailable
from pforte.services import users
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.users import UserChange
from pforte.store.tables import AuditEventRow, RefreshTokenRow, SessionRow
from tests.e2e.apps import (
    DATABASES,
    admin_http,
    authorize_url,
    count_rows,
    create_client,
    create_tenant,
    create_user,
    database,
    filled_form,
    on_database,
)
from tests.e2e.conftest import Server, Servers, start_pair
from tests.e2e.test_cluster import WITHIN, seconds_until
from tests.protocol.flow import pkce_pair, query_of

pytestmark = pytest.mark.e2e

TENANT = "people"
CLIENT_ID = "portal"
REDIRECT = "https://portal.example.com/cb"
PASSWORD = "a long enough password"
N = 8  # requests in each race
FAMILIES = 4  # refresh token families kept busy while their user is disabled
TURNS = 200  # at most this many refreshes per family (the disabling ends them long before)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Code:
    value: str
    verifier: str


@dataclass(frozen=True, slots=True)
class Form:
    """A sign-in form as the browser got it, and the PKCE verifier of its request."""

    action: str
    fields: dict[str, str]
    verifier: str


@dataclass
class Site:
    """Two processes on one database, with a tenant and a confidential application in it."""

    url: str  # the database
    servers: list[Server]
    secret: str  # the application's client secret

    def base(self, i: int) -> str:
        """Server ``i`` modulo two: alternating ``i`` alternates the processes."""
        return self.servers[i % 2].url

    def token(self, at: int, **data: str) -> httpx.Response:
        return httpx.post(
            f"{self.base(at)}/t/{TENANT}/token", data=data, auth=(CLIENT_ID, self.secret), timeout=30
        )

    def exchange(self, code: Code, at: int) -> httpx.Response:
        return self.token(
            at,
            grant_type="authorization_code",
            code=code.value,
            redirect_uri=REDIRECT,
            code_verifier=code.verifier,
        )

    def refresh(self, refresh_token: str, at: int) -> httpx.Response:
        return self.token(at, grant_type="refresh_token", refresh_token=refresh_token)

    def introspect(self, token: str, at: int) -> dict[str, Any]:
        answer = httpx.post(
            f"{self.base(at)}/t/{TENANT}/introspect",
            data={"token": token},
            auth=(CLIENT_ID, self.secret),
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def inactive(self, token: str, at: int) -> bool:
        return self.introspect(token, at) == {"active": False}

    def userinfo(self, access_token: str, at: int) -> httpx.Response:
        headers = {"Authorization": f"Bearer {access_token}"}
        return httpx.get(f"{self.base(at)}/t/{TENANT}/userinfo", headers=headers, timeout=30)

    def sign_in_form(self, browser: httpx.Client, username: str, at: int) -> Form:
        """GET /authorize at server ``at``: the sign-in form, filled in."""
        verifier, challenge = pkce_pair()
        page = browser.get(authorize_url(self.base(at), TENANT, CLIENT_ID, REDIRECT, challenge, state="s"))
        assert page.status_code == 200, page.text
        action, fields = filled_form(page.text, username=username, password=PASSWORD)
        return Form(action, fields, verifier)

    def submit(self, browser: httpx.Client, form: Form, at: int) -> Code:
        """Post the form to server ``at``: the code the browser is sent back with."""
        return Code(code_of(browser.post(self.base(at) + form.action, data=form.fields)), form.verifier)

    def sign_in(self, browser: httpx.Client, username: str, at: int, then: int) -> Code:
        """Open the authorization URL at server ``at``, post the form to server ``then``."""
        return self.submit(browser, self.sign_in_form(browser, username, at), then)

    def again(self, browser: httpx.Client, at: int) -> Code:
        """An authorization request in a browser that is signed in: a code without a form."""
        verifier, challenge = pkce_pair()
        answer = browser.get(authorize_url(self.base(at), TENANT, CLIENT_ID, REDIRECT, challenge, state="s"))
        return Code(code_of(answer), verifier)

    def disable(self, user_id: uuid.UUID) -> None:
        """Disable the user through the services on the shared database, as the admin API and
        the CLI do; the processes hear of it only through the change feed."""
        change = UserChange(enabled=False)
        on_database(
            self.url, lambda ctx: users.update_user(ctx, SYSTEM_PRINCIPAL, TENANT, str(user_id), change)
        )

    def count(self, table: Any, *where: ColumnElement[bool]) -> int:
        return count_rows(self.url, table, *where)


def code_of(answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    got = query_of(answer.headers["location"])
    assert got["state"] == "s", got
    return got["code"]


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Every call in a thread of its own, released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def refused(responses: list[httpx.Response]) -> list[str]:
    """The error codes of the answers that are not 200."""
    return [r.json().get("error", r.text) for r in responses if r.status_code != 200]


def live_refresh_tokens(site: Site, user_id: uuid.UUID) -> int:
    return site.count(
        RefreshTokenRow,
        RefreshTokenRow.user_id == user_id,
        RefreshTokenRow.used_at.is_(None),
        RefreshTokenRow.revoked_at.is_(None),
    )


def events(site: Site, name: str, user_id: uuid.UUID) -> int:
    return site.count(AuditEventRow, AuditEventRow.name == name, AuditEventRow.target_id == str(user_id))


@pytest.fixture(scope="module", params=DATABASES)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp(f"sign-in-race-{request.param}")
    pool = Servers(root)
    with database(request.param, pool.workdir("a")) as url:
        try:
            started = start_pair(pool, url, PFORTE_ACCESS_LOG="false")
            with admin_http(started[0]) as admin:
                create_tenant(admin, TENANT, "People")
                secret = create_client(
                    admin,
                    TENANT,
                    CLIENT_ID,
                    allowedGrantTypes=["authorization_code", "refresh_token"],
                    allowedScopes=["openid", "profile", "email"],
                    redirectUris=[REDIRECT],
                    allowOfflineAccess=True,
                )
            assert secret is not None
            yield Site(url, started, secret)
            for server in started:
                output = server.stdout() + server.stderr()
                assert "Traceback" not in output, output[-3000:]
                assert '"status": 500' not in output and "status=500" not in output
        finally:
            pool.stop_all()  # before the database goes away


def new_user(site: Site) -> tuple[str, uuid.UUID]:
    username = f"user-{uuid.uuid4().hex[:8]}"
    return username, create_user(site.servers[0], TENANT, username, PASSWORD)


def signed_in(site: Site, at: int, then: int) -> tuple[uuid.UUID, dict[str, Any]]:
    """A new user signs in (the page from server ``at``, the form posted to server ``then``),
    and the application exchanges the code at server ``then``: the user's id and the tokens."""
    username, user_id = new_user(site)
    with httpx.Client(timeout=30) as browser:
        code = site.sign_in(browser, username, at=at, then=then)
    issued = site.exchange(code, at=then)
    assert issued.status_code == 200, issued.text
    tokens: dict[str, Any] = issued.json()
    return user_id, tokens


def race_one_code(site: Site) -> tuple[uuid.UUID, dict[str, Any]]:
    """A user's code exchanged N times at once, on both processes: one 200, N-1 invalid_grant.
    The user's id, and what the one exchange that won issued."""
    username, user_id = new_user(site)
    with httpx.Client(timeout=30) as browser:
        code = site.sign_in(browser, username, at=0, then=1)

    answers = at_once([partial(site.exchange, code, i) for i in range(N)])

    assert Counter(r.status_code for r in answers) == {200: 1, 400: N - 1}, [r.text for r in answers]
    assert refused(answers) == ["invalid_grant"] * (N - 1)
    issued: dict[str, Any] = next(r.json() for r in answers if r.status_code == 200)
    assert {"access_token", "refresh_token", "id_token"} <= set(issued)
    assert events(site, "authorization_code.reused", user_id) == N - 1
    return user_id, issued


def test_one_code_exchanged_at_once_is_issued_once_and_the_replays_revoke_its_access_token(
    site: Site,
) -> None:
    _, issued = race_one_code(site)
    # On both processes: the other one learns it within a second, through the change feed.
    for at in (0, 1):
        assert seconds_until(partial(site.inactive, issued["access_token"], at)) <= WITHIN
        assert site.userinfo(issued["access_token"], at).status_code == 401


def test_one_code_exchanged_at_once_and_the_replays_revoke_its_refresh_tokens(site: Site) -> None:
    """docs/sign-in.md: a second use "revokes the access token and the refresh tokens the first
    use issued"."""
    user_id, issued = race_one_code(site)
    for at in (0, 1):
        assert site.introspect(issued["refresh_token"], at) == {"active": False}
    assert live_refresh_tokens(site, user_id) == 0
    assert refused([site.refresh(issued["refresh_token"], 1)]) == ["invalid_grant"]


def test_one_refresh_token_used_at_once_rotates_once_and_the_reuse_revokes_the_family(site: Site) -> None:
    user_id, first = signed_in(site, at=1, then=0)
    presented = first["refresh_token"]

    answers = at_once([partial(site.refresh, presented, i) for i in range(N)])

    # The token is held while it is rotated: the first use rotates it; every other use finds it
    # rotated, which is reuse, and revokes the whole family — the new token too.
    assert Counter(r.status_code for r in answers) == {200: 1, 400: N - 1}, [r.text for r in answers]
    assert refused(answers) == ["invalid_grant"] * (N - 1)
    rotated = next(r.json() for r in answers if r.status_code == 200)
    assert rotated["refresh_token"] != presented
    assert events(site, "refresh_token.reused", user_id) == N - 1
    for at in (0, 1):
        assert site.introspect(presented, at) == {"active": False}
        assert site.introspect(rotated["refresh_token"], at) == {"active": False}
    assert live_refresh_tokens(site, user_id) == 0
    after = site.refresh(rotated["refresh_token"], 1)
    assert (after.status_code, after.json()["error"]) == (400, "invalid_grant")


def test_one_user_signing_in_from_many_browsers_at_once_gets_a_session_in_each(site: Site) -> None:
    username, user_id = new_user(site)
    browsers = [httpx.Client(timeout=30) for _ in range(N)]
    try:
        forms = [site.sign_in_form(browser, username, at=i) for i, browser in enumerate(browsers)]
        codes = at_once([partial(site.submit, browsers[i], forms[i], i + 1) for i in range(N)])
        cookies = {browser.cookies.get("pforte_session") for browser in browsers}
    finally:
        for browser in browsers:
            browser.close()

    assert len(cookies) == N and None not in cookies  # a session of its own in every browser
    assert len({code.value for code in codes}) == N
    assert site.count(SessionRow, SessionRow.user_id == user_id) == N
    assert events(site, "user.signed_in", user_id) == N
    exchanged = at_once([partial(site.exchange, codes[i], i) for i in range(N)])
    assert [r.status_code for r in exchanged] == [200] * N, [r.text for r in exchanged]
    sids = {jwt.decode(r.json()["id_token"], options={"verify_signature": False})["sid"] for r in exchanged}
    assert len(sids) == N  # each code belongs to its own session
    again = at_once([partial(site.exchange, codes[i], i + 1) for i in range(N)])
    assert refused(again) == ["invalid_grant"] * N


def test_disabling_a_user_while_their_tokens_are_refreshed_ends_every_refresh(site: Site) -> None:
    username, user_id = new_user(site)
    with httpx.Client(timeout=30) as browser:
        codes = [site.sign_in(browser, username, at=0, then=1)]
        codes += [site.again(browser, at=i) for i in range(1, FAMILIES)]
    issued = [site.exchange(code, at=i) for i, code in enumerate(codes)]
    assert [r.status_code for r in issued] == [200] * FAMILIES, [r.text for r in issued]
    latest = [r.json()["refresh_token"] for r in issued]
    access = [r.json()["access_token"] for r in issued]
    log: list[tuple[float, httpx.Response]] = []  # (when the request was sent, its answer)
    disabled_at: list[float] = []
    deadlocks: list[str] = []  # which side PostgreSQL's deadlock detection chose

    def keep_refreshing(family: int) -> None:
        for turn in range(TURNS):
            sent = time.monotonic()
            answer = site.refresh(latest[family], at=family + turn)
            log.append((sent, answer))
            if answer.status_code != 200:
                return
            latest[family] = answer.json()["refresh_token"]
            access.append(answer.json()["access_token"])

    def disable_soon() -> None:
        time.sleep(0.5)
        for _ in range(3):  # "repeat the request", as an operator would
            try:
                site.disable(user_id)
                break
            except Unavailable:  # PostgreSQL's deadlock detection chose the disabling
                deadlocks.append("the disabling")
        disabled_at.append(time.monotonic())

    race: list[Callable[[], None]] = [disable_soon, *(partial(keep_refreshing, f) for f in range(FAMILIES))]
    at_once(race)

    assert 200 in {answer.status_code for _, answer in log}  # the refreshes did overlap
    late = [answer.text for sent, answer in log if sent >= disabled_at[0] and answer.status_code == 200]
    assert late == []  # nothing sent after the user was disabled succeeded
    # Afterwards: no refresh succeeds on either process, no refresh token of the user is live,
    # no session is left, and every access token they were given is refused (within a second).
    for at in (0, 1):
        for token in latest:
            assert refused([site.refresh(token, at)]) == ["invalid_grant"]
            assert site.introspect(token, at) == {"active": False}
        for token in access:
            assert seconds_until(partial(site.inactive, token, at)) <= WITHIN
            assert site.userinfo(token, at).status_code == 401
    assert site.count(SessionRow, SessionRow.user_id == user_id) == 0
    assert live_refresh_tokens(site, user_id) == 0
    # Each family's refreshes ended with one refusal, and only then: the disabled user's
    # invalid_grant, never a crash.
    errors = refused([answer for _, answer in log])
    assert len(errors) == FAMILIES and set(errors) <= {"invalid_grant", "temporarily_unavailable"}, errors
    # No deadlock either: a grant holds the user (FOR SHARE) before its code or token, in the
    # order the disabling takes them (``repos.sessions._holding_user``).
    deadlocks += ["a refresh" for error in errors if error == "temporarily_unavailable"]
    assert errors == ["invalid_grant"] * FAMILIES and deadlocks == []


def test_a_user_disabled_behind_a_process_loses_their_access_token_there_within_a_second(site: Site) -> None:
    """Process A signs the user in, issues the token and answers for it (its caches warm); the
    user is disabled in the shared database, so A learns it only through the change feed."""
    user_id, issued = signed_in(site, at=0, then=0)
    access = issued["access_token"]
    assert site.introspect(access, 0)["active"] is True
    assert site.userinfo(access, 0).json()["sub"] == str(user_id)

    site.disable(user_id)
    assert seconds_until(partial(site.inactive, access, 0)) <= WITHIN
    refusal = site.userinfo(access, 0)
    assert refusal.status_code == 401
    assert 'error="invalid_token"' in refusal.headers["www-authenticate"]
    assert site.introspect(access, 1) == {"active": False}
