"""RFC 7662 token introspection at ``/t/{slug}/introspect``.

A resource server (here the confidential client ``rs``) asks about a token: a live access token
or API key of this tenant is described; anything else is ``{"active": false}`` and nothing more
(§2.2). The request-level checks shared with ``/revoke`` (body, content type, client
authentication, unknown tenant, methods) are tested here for both endpoints.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from joserfc.jwk import ECKey
from sqlalchemy import update

from pforte.security.keys import generate
from pforte.store.tables import ApiKeyRow
from tests.conftest import make_tenant
from tests.protocol.oauth import (
    AUDIENCE,
    FORM,
    INACTIVE,
    PUBLIC_URL,
    App,
    Scene,
    SigningKey,
    admin_delete,
    admin_patch,
    api_key_of_another_tenant,
    assert_invalid_client,
    assert_json,
    assert_oauth_error,
    basic_auth,
    compact,
    decode_segment,
    expired_token,
    introspected,
    is_active,
    issuer,
    new_api_key,
    register,
    token_of_another_tenant,
    typo,
    unchanged,
    unknown_api_key,
)

pytestmark = pytest.mark.anyio
ENDPOINTS = ["introspect", "revoke"]
AUTH = ["basic", "post"]


async def assert_inactive(scene: Scene, token: str) -> None:
    """``{"active": false}`` and nothing else, and nothing written."""
    async with unchanged(scene.ctx):
        assert await introspected(scene.rs, token) == INACTIVE


# --- live tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", AUTH)
async def test_a_live_access_token_is_described_by_its_claims(scene: Scene, auth: str) -> None:
    token = await scene.svc.access_token()
    claims = decode_segment(token, 1)
    async with unchanged(scene.ctx):
        body = await introspected(scene.rs, token, auth=auth)
        assert body == {"active": True, "token_type": "Bearer", **claims}
        assert body["scope"] == "clients:read events:read"
        assert body["client_id"] == body["sub"] == "svc"
        assert body["iss"] == issuer(scene.svc.tenant)
        assert body["aud"] == AUDIENCE


async def test_a_client_may_introspect_its_own_token(scene: Scene) -> None:
    token = await scene.svc.access_token(scope="events:read")
    body = await introspected(scene.svc, token, auth="post")
    assert body["active"] is True
    assert body["scope"] == "events:read"


async def test_a_token_without_scopes_has_no_scope_member(scene: Scene) -> None:
    bare = await register(scene.svc.http, scene.admin, scene.svc.tenant, "bare", allowedScopes=[])
    token = await bare.access_token()
    body = await introspected(scene.rs, token)
    assert body == {"active": True, "token_type": "Bearer", **decode_segment(token, 1)}
    assert "scope" not in body


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "api_key", "no-such-hint"])
async def test_token_type_hint_is_accepted_and_ignored(scene: Scene, hint: str) -> None:
    token = await scene.svc.access_token()
    key = (await new_api_key(scene.svc, scene.admin, ["events:read"]))["value"]
    assert await is_active(scene.rs, token, token_type_hint=hint)
    assert await is_active(scene.rs, key, token_type_hint=hint)
    assert await introspected(scene.rs, "nonsense", token_type_hint=hint) == INACTIVE


async def test_a_token_stays_active_until_its_exp(scene: Scene) -> None:
    token = (await scene.key()).sign(await scene.claims(exp=int(time.time()) + 5))
    assert await is_active(scene.rs, token)


def api_key_description(app: App, created: dict[str, Any], scope: str) -> dict[str, Any]:
    return {
        "active": True,
        "token_type": "Bearer",
        "client_id": app.client_id,
        "sub": app.client_id,
        "iss": issuer(app.tenant),
        "iat": int(datetime.fromisoformat(created["createdAt"]).timestamp()),
        "jti": created["id"],
        "scope": scope,
    }


@pytest.mark.parametrize("auth", AUTH)
async def test_a_live_api_key_is_described(scene: Scene, auth: str) -> None:
    created = await new_api_key(scene.svc, scene.admin, ["events:read", "clients:read"])
    async with unchanged(scene.ctx):
        body = await introspected(scene.rs, created["value"], auth=auth)
        assert body == api_key_description(scene.svc, created, "clients:read events:read")


async def test_an_expiring_api_key_has_exp(scene: Scene) -> None:
    expiration = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    created = await new_api_key(scene.svc, scene.admin, ["events:read"], expiration=expiration.isoformat())
    body = await introspected(scene.rs, created["value"])
    assert body == {
        **api_key_description(scene.svc, created, "events:read"),
        "exp": int(expiration.timestamp()),
    }


async def test_an_api_key_describes_only_the_scopes_its_client_still_holds(scene: Scene) -> None:
    created = await new_api_key(scene.svc, scene.admin, ["events:read", "clients:read"])
    await admin_patch(scene.svc, scene.admin, allowedScopes=["events:read"])
    body = await introspected(scene.rs, created["value"])
    assert body == api_key_description(scene.svc, created, "events:read")


# --- tokens that are not active -------------------------------------------------------------


async def expiring_now(s: Scene) -> str:
    return (await s.key()).sign(await s.claims(exp=int(time.time())))


async def revoked(s: Scene) -> str:
    token = await s.svc.access_token()
    assert (await s.svc.revoke(token)).status_code == 200
    return token


async def live_in_another_tenant(s: Scene) -> str:
    """Active where it was issued (and remembered there as verified), not here."""
    other = await s.other_tenant_app()
    token = await other.access_token()
    assert await is_active(other, token)
    return token


async def of_a_disabled_client(s: Scene) -> str:
    token = await s.svc.access_token()
    assert await is_active(s.rs, token)
    await admin_patch(s.svc, s.admin, enabled=False)
    return token


async def of_a_deleted_client(s: Scene) -> str:
    token = await s.svc.access_token()
    assert await is_active(s.rs, token)
    await admin_delete(s.svc, s.admin)
    return token


async def of_a_deleted_and_recreated_client(s: Scene) -> str:
    """Issued to the ``svc`` that was deleted a second later; a new ``svc`` exists."""
    token = await s.svc.access_token()
    assert await is_active(s.rs, token)
    await anyio.sleep(1.01 - time.time() % 1)  # the next second
    await admin_delete(s.svc, s.admin)
    await register(s.svc.http, s.admin, s.svc.tenant)
    return token


async def with_a_trailing_slash_on_iss(s: Scene) -> str:
    return (await s.key()).sign(await s.claims(iss=issuer(s.svc.tenant) + "/"))


async def of_an_unknown_client(s: Scene) -> str:
    return (await s.key()).sign(await s.claims("nobody"))


async def signed_by_another_tenants_key(s: Scene) -> str:
    """Its own kid, our issuer and audience: the key is published, but not by this tenant."""
    return (await s.key(await make_tenant(s.ctx))).sign(await s.claims())


async def signed_by_a_stranger_under_our_kid(s: Scene) -> str:
    stranger = generate("ES256")
    ours = await s.key()
    return SigningKey(ours.kid, "ES256", stranger.private_pkcs8).sign(await s.claims())


async def with_its_own_key_in_the_jwk_header(s: Scene) -> str:
    """``jwk`` (RFC 7515 §4.1.3) is never trusted: the kid is ours, the key the attacker's."""
    stranger = generate("ES256")
    ours = await s.key()
    forger = SigningKey(ours.kid, "ES256", stranger.private_pkcs8)
    return forger.sign(await s.claims(), jwk=stranger.public_jwk)


async def with_alg_none(s: Scene) -> str:
    header = {"alg": "none", "kid": (await s.key()).kid, "typ": "at+jwt"}
    return compact(header, await s.claims())


async def hs256_keyed_with_the_public_key(s: Scene) -> str:
    """The algorithm-confusion forgery: HMAC keyed with the tenant's published public key."""
    ours = await s.key()
    public = ECKey.import_key(ours.der).as_pem(private=False)
    header = {"alg": "HS256", "kid": ours.kid, "typ": "at+jwt"}
    return compact(header, await s.claims(), lambda data: hmac.new(public, data, "sha256").digest())


def forged_with(header: dict[str, Any] | None = None, **claims: Any) -> Callable[[Scene], Awaitable[str]]:
    """A token signed with the tenant's own key, with a header or claims changed."""

    async def make(s: Scene) -> str:
        return (await s.key()).sign(await s.claims(**claims), **(header or {}))

    return make


def api_key_case(
    change: Callable[[Scene, dict[str, Any]], Awaitable[None]],
) -> Callable[[Scene], Awaitable[str]]:
    """An API key of ``svc``, then ``change`` done to it or its client."""

    async def make(s: Scene) -> str:
        created = await new_api_key(s.svc, s.admin, ["events:read"])
        assert await is_active(s.rs, created["value"])
        await change(s, created)
        value: str = created["value"]
        return value

    return make


async def key_revoked(s: Scene, created: dict[str, Any]) -> None:
    url = s.svc.admin_url(f"/api-keys/{created['id']}")
    assert (await s.svc.http.delete(url, headers=s.admin)).status_code == 204


async def key_expired(s: Scene, created: dict[str, Any]) -> None:
    async with s.ctx.db.transaction() as session:
        await session.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.value_hash == s.ctx.hasher.hash(created["value"]))
            .values(expiration=datetime.now(UTC) - timedelta(seconds=1))
        )


async def key_client_disabled(s: Scene, _created: dict[str, Any]) -> None:
    await admin_patch(s.svc, s.admin, enabled=False)


async def key_client_deleted(s: Scene, _created: dict[str, Any]) -> None:
    await admin_delete(s.svc, s.admin)


async def client_secret(s: Scene) -> str:
    return s.svc.secret


NOT_ACTIVE: dict[str, Callable[[Scene], Awaitable[str]]] = {
    "expired": expired_token,
    "exp is now": expiring_now,
    "revoked": revoked,
    "another tenant's": token_of_another_tenant,
    "live in another tenant": live_in_another_tenant,
    "client disabled": of_a_disabled_client,
    "client deleted": of_a_deleted_client,
    "client deleted and re-created": of_a_deleted_and_recreated_client,
    "unknown client_id": of_an_unknown_client,
    "another tenant's key": signed_by_another_tenants_key,
    "a stranger's key under our kid": signed_by_a_stranger_under_our_kid,
    "jwk header": with_its_own_key_in_the_jwk_header,
    "alg none": with_alg_none,
    "HS256 keyed with the public key": hs256_keyed_with_the_public_key,
    "typ JWT": forged_with({"typ": "JWT"}),
    "no typ": forged_with({"typ": None}),
    "unknown kid": forged_with({"kid": "no-such-kid"}),
    "no kid": forged_with({"kid": None}),
    "another tenant's iss": forged_with(iss=f"{PUBLIC_URL}/t/system"),
    "iss with a trailing slash": with_a_trailing_slash_on_iss,
    "wrong aud": forged_with(aud=f"{PUBLIC_URL}/other"),
    "no aud": forged_with(aud=None),
    "no exp": forged_with(exp=None),
    "no jti": forged_with(jti=None),
    "no client_id": forged_with(client_id=None),
    "api key unknown": unknown_api_key,
    "api key revoked": api_key_case(key_revoked),
    "api key expired": api_key_case(key_expired),
    "api key of a disabled client": api_key_case(key_client_disabled),
    "api key of a deleted client": api_key_case(key_client_deleted),
    "api key of another tenant": api_key_of_another_tenant,
    "a client secret": client_secret,
}


@pytest.mark.parametrize("case", list(NOT_ACTIVE))
async def test_not_active_is_active_false_and_nothing_else(scene: Scene, case: str) -> None:
    await assert_inactive(scene, await NOT_ACTIVE[case](scene))


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "a.b.c", "eyJhbGciOiJFUzI1NiJ9..", "pfk_short", "x" * 8000, "Bearer abc", "ä"],
    ids=["word", "three-parts", "empty-parts", "short-pfk", "long", "with-space", "non-ascii"],
)
async def test_malformed_strings_are_not_active(scene: Scene, token: str) -> None:
    await assert_inactive(scene, token)


async def test_a_checksum_typo_in_an_api_key_is_not_active(scene: Scene) -> None:
    value: str = (await new_api_key(scene.svc, scene.admin, ["events:read"]))["value"]
    await assert_inactive(scene, typo(value))


async def test_a_token_of_a_client_deleted_and_recreated_at_once_is_not_active(scene: Scene) -> None:
    fraction = time.time() % 1
    if fraction > 0.3:  # issue, delete and re-create inside one second
        await anyio.sleep(1.01 - fraction)
    token = await scene.svc.access_token()
    await admin_delete(scene.svc, scene.admin)
    await register(scene.svc.http, scene.admin, scene.svc.tenant)
    assert int(time.time()) == decode_segment(token, 1)["iat"], "too slow to show the bug"
    await assert_inactive(scene, token)


# --- the request: shared with /revoke --------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_token_is_required(scene: Scene, endpoint: str) -> None:
    async with unchanged(scene.ctx):
        for form in ({}, {"token": ""}, {"token_type_hint": "access_token"}):
            description = assert_oauth_error(await scene.rs.post(endpoint, form), 400, "invalid_request")
            assert description == "token is required"


def _wrong_secret(app: App) -> App:
    return App(app.http, app.tenant, app.client_id, typo(app.secret))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("auth", AUTH)
@pytest.mark.parametrize("case", ["wrong secret", "unknown client", "disabled", "another tenant's client"])
async def test_the_caller_must_be_a_client_of_the_tenant(
    scene: Scene, endpoint: str, auth: str, case: str
) -> None:
    token = await scene.svc.access_token()
    caller = scene.rs
    if case == "wrong secret":
        caller = _wrong_secret(caller)
    elif case == "unknown client":
        caller = App(caller.http, caller.tenant, "nobody", caller.secret)
    elif case == "disabled":
        await admin_patch(caller, scene.admin, enabled=False)
    else:
        other = await register(caller.http, scene.admin, await make_tenant(scene.ctx), "rs")
        caller = App(caller.http, caller.tenant, "rs", other.secret)
    async with unchanged(scene.ctx):
        assert_invalid_client(await caller.post(endpoint, {"token": token}, auth=auth), basic=auth == "basic")
    assert await is_active(scene.svc, token)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_no_client_authentication_is_invalid_client(scene: Scene, endpoint: str) -> None:
    token = await scene.svc.access_token()
    async with unchanged(scene.ctx):
        for form in ({"token": token}, {"token": token, "client_id": "rs"}):
            response = await scene.rs.http.post(scene.rs.url(endpoint), data=form)
            assert_invalid_client(response, basic=False)
        response = await scene.rs.http.post(
            scene.rs.url(endpoint),
            data={"token": token},
            headers={"Authorization": "Bearer " + token},
        )
        assert_invalid_client(response, basic=True)


def _both_methods(app: App, token: str) -> tuple[str, dict[str, str]]:
    return f"token={token}&client_secret={app.secret}", {**FORM, **basic_auth(app.client_id, app.secret)}


def _repeated(app: App, token: str) -> tuple[str, dict[str, str]]:
    return f"token={token}&token={token}", {**FORM, **basic_auth(app.client_id, app.secret)}


def _json_body(app: App, token: str) -> tuple[str, dict[str, str]]:
    headers = {**basic_auth(app.client_id, app.secret), "Content-Type": "application/json"}
    return f'{{"token": "{token}"}}', headers


def _no_content_type(app: App, token: str) -> tuple[str, dict[str, str]]:
    return f"token={token}", basic_auth(app.client_id, app.secret)


def _other_client_id(app: App, token: str) -> tuple[str, dict[str, str]]:
    return f"token={token}&client_id=svc", {**FORM, **basic_auth(app.client_id, app.secret)}


BAD_REQUESTS = {
    "two authentication methods": _both_methods,
    "repeated token": _repeated,
    "json": _json_body,
    "no content type": _no_content_type,
    "client_id differs from Basic": _other_client_id,
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", list(BAD_REQUESTS))
async def test_malformed_requests_are_invalid_request(scene: Scene, endpoint: str, case: str) -> None:
    token = await scene.svc.access_token()
    content, headers = BAD_REQUESTS[case](scene.rs, token)
    async with unchanged(scene.ctx):
        response = await scene.rs.http.post(scene.rs.url(endpoint), content=content, headers=headers)
        assert_oauth_error(response, 400, "invalid_request")
    assert await is_active(scene.svc, token)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_body_over_8_kib_is_413(scene: Scene, endpoint: str) -> None:
    token = await scene.svc.access_token()
    async with unchanged(scene.ctx):
        padded = {"token": token, "pad": "x" * (8 * 1024 - len(token))}
        assert_oauth_error(await scene.rs.post(endpoint, padded), 413, "invalid_request")
    assert await is_active(scene.svc, token)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_an_unknown_tenant_is_404(scene: Scene, endpoint: str) -> None:
    token = await scene.svc.access_token()
    async with unchanged(scene.ctx):
        for slug in ("no-such-tenant", "Not_A_Slug"):
            lost = App(scene.rs.http, slug, scene.rs.client_id, scene.rs.secret)
            for auth in AUTH:
                body = assert_json(await lost.post(endpoint, {"token": token}, auth=auth), 404)
                assert body["error"] == "not_found"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_only_post_is_allowed(scene: Scene, endpoint: str, method: str) -> None:
    response = await scene.rs.http.request(
        method, f"/t/{scene.rs.tenant}/{endpoint}", headers=basic_auth("rs", scene.rs.secret)
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
