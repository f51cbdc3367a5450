"""Attacks on the sign-in flow (issue 10's security list), each asserting the exact refusal and
that nothing was issued: open redirects, PKCE downgrade and plain, code injection across
clients, CSRF on every form, username enumeration by message and by work done."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from pforte.app import create_app
from pforte.security.passwords import PasswordHasher
from pforte.services.context import Context
from tests.protocol.flow import PASSWORD, REDIRECT, App, form_of, make_app, pkce_pair, query_of

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/cb",
        "http://app.example.com/cb",  # scheme downgrade
        "https://app.example.com.evil.com/cb",
        "https://app.example.com/cb/../evil",
        "https://app.example.com/cb%2F..%2Fevil",
        "https://app.example.com/cb?next=https://evil.example.com",
        "https://app.example.com/cb#fragment",
        "https://user@app.example.com/cb",
        "https://app.example.com:444/cb",
        "//evil.example.com/cb",
        "javascript:alert(1)",
        "https://APP.example.com/cb",
        " https://app.example.com/cb",
    ],
)
async def test_no_open_redirect(
    client: httpx.AsyncClient, ctx: Context, tenant: str, redirect_uri: str
) -> None:
    app = await make_app(ctx, tenant)
    answer = await client.get(
        f"/t/{tenant}/authorize", params=app.authorize_params(redirect_uri=redirect_uri)
    )
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert answer.headers["content-type"].startswith("text/html")


async def test_pkce_downgrade_and_a_wrong_verifier_are_refused_and_use_the_code_up(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant)
    code, _ = await app.code(client)
    other_verifier, _ = pkce_pair()
    wrong = await app.exchange(client, code, code_verifier=other_verifier)
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    right = await app.exchange(client, code)  # the code is used up by the failed attempt
    assert (right.status_code, right.json()["error"]) == (400, "invalid_grant")
    # no verifier for a code issued with a challenge
    client.cookies.clear()
    code, _ = await app.code(client)
    missing = await app.exchange(client, code, code_verifier="")
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    # a verifier for a code issued without a challenge (a client allowed to skip PKCE): downgrade
    lax = await make_app(ctx, tenant, allow_no_pkce=True)
    client.cookies.clear()
    code, _ = await lax.code(client, code_challenge="", code_challenge_method="")
    downgrade = await lax.exchange(client, code)
    assert (downgrade.status_code, downgrade.json()["error"]) == (400, "invalid_grant")


async def test_a_code_issued_to_one_client_is_useless_to_another(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    victim, attacker = await make_app(ctx, tenant), await make_app(ctx, tenant)
    code, _ = await victim.code(client)
    stolen = await attacker.exchange(client, code, code_verifier=victim.verifier)
    assert (stolen.status_code, stolen.json()["error"]) == (400, "invalid_grant")
    other_redirect = await victim.exchange(client, code, redirect_uri=REDIRECT + "/other")
    assert other_redirect.json()["error"] == "invalid_grant"


async def csrf_refused(client: httpx.AsyncClient, action: str, fields: dict[str, str]) -> None:
    real = fields["csrf_token"]
    altered = real[:-1] + ("A" if real[-1] != "A" else "B")  # one character off, never the same
    for token in ("", "x" * 43, altered):
        answer = await client.post(action, data={**fields, "csrf_token": token})
        assert answer.status_code == 403, (token, answer.text)
        assert "location" not in answer.headers


async def test_every_form_refuses_a_foreign_csrf_token(
    client: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app = await make_app(ctx, tenant, require_consent=True)
    page = await client.get(f"{app.base}/authorize", params=app.authorize_params())
    action, fields = form_of(page.text)
    await csrf_refused(client, action, {**fields, "username": app.username, "password": PASSWORD})
    consent_page = await client.post(action, data={**fields, "username": app.username, "password": PASSWORD})
    action, fields = form_of(consent_page.text)
    await csrf_refused(client, action, {**fields, "decision": "allow"})
    logout_page = await client.get(f"{app.base}/logout")
    action, fields = form_of(logout_page.text)
    await csrf_refused(client, action, fields)
    # still signed in: none of the refused forms did anything
    silent = await client.get(f"{app.base}/authorize", params=app.authorize_params(prompt="none"))
    assert query_of(silent.headers["location"]).get("error") == "consent_required"


class CountingHasher(PasswordHasher):
    """Counts argon2 verifications (the work a sign-in does), real and dummy alike."""

    verified = 0

    def verify(self, stored_hash: str, password: str) -> bool:
        type(self).verified += 1
        return super().verify(stored_hash, password)


@pytest.fixture
async def counted(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    hasher = CountingHasher(time_cost=1, memory_kib=8192, parallelism=1)
    local = dataclasses.replace(ctx, passwords=hasher)
    transport = httpx.ASGITransport(app=create_app(local.settings, local))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_no_username_enumeration_by_message_or_work(
    counted: httpx.AsyncClient, ctx: Context, tenant: str
) -> None:
    app: App = await make_app(ctx, tenant)
    params = app.authorize_params()
    answers = {}
    for label, username, password in (
        ("unknown user", "nobody-at-all", "whatever password"),
        ("wrong password", app.username, "not the password"),
        ("other case, wrong password", app.username.upper(), "not the password"),
    ):
        before = CountingHasher.verified
        answer = await app.sign_in(counted, params, username=username, password=password)
        answers[label] = (answer.status_code, "Invalid username or password." in answer.text)
        assert CountingHasher.verified - before == 1, label  # one argon2 verification each
    assert set(answers.values()) == {(200, True)}
