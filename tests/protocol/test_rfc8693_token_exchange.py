"""RFC 8693 token exchange at ``/t/{slug}/token``: impersonation (DESIGN §7).

A confidential client with ``users:impersonate`` and the token-exchange grant trades its own
client-credentials token for an access token of a user of its tenant, ``act`` naming the client.
Every refusal is an exact RFC 6749 §5.2 error that leaves every table as it was.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client

from pforte.app import create_app
from pforte.domain.clients import TOKEN_EXCHANGE
from pforte.domain.users import UserSpec
from pforte.services import roles as role_service
from pforte.services import users as user_service
from pforte.services.bootstrap import SYSTEM_PRINCIPAL
from pforte.services.context import Context
from tests.conftest import assert_problem, audit_events, bearer, make_tenant
from tests.protocol.oauth import (
    ADMIN,
    AUDIENCE,
    FORM,
    PUBLIC_URL,
    App,
    admin_patch,
    assert_invalid_client,
    assert_json,
    assert_oauth_error,
    decode_segment,
    introspected,
    register,
    unchanged,
)

pytestmark = pytest.mark.anyio

ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
SCOPES = ["users:impersonate", "clients:read", "events:read", "profile"]
INVALID_SUBJECT_TOKEN = (
    "the subject_token is invalid, expired, revoked, or not an access token this client got for itself"
)
NO_SUCH_USER = "the requested_subject is not an enabled user of this tenant"


@dataclass
class Setting:
    """A tenant with the impersonating client ``imp``, a resource server ``rs`` and the user
    ``ada`` (role ``support``: clients:read), whom ``imp`` may act as."""

    ctx: Context
    admin: dict[str, str]
    imp: App
    rs: App
    username: str
    user_id: str

    @property
    def tenant(self) -> str:
        return self.imp.tenant

    async def subject_token(self, scope: str = "users:impersonate clients:read profile") -> str:
        return await self.imp.access_token(scope=scope)

    async def exchange(self, app: App | None = None, *, subject_token: str | None = None, **form: str) -> Any:
        """The answer to a token-exchange request by ``app`` (``imp``) for ``ada``; a form
        member given as ``""`` is left out."""
        app = app or self.imp
        data = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": subject_token if subject_token is not None else await self.subject_token(),
            "subject_token_type": ACCESS_TOKEN_TYPE,
            "requested_subject": self.user_id,
            **form,
        }
        return await app.post("token", {k: v for k, v in data.items() if v != ""})

    async def user(self, *, roles: list[str], tenant: str | None = None, enabled: bool = True) -> str:
        username = f"u-{uuid.uuid4().hex[:8]}"
        created = await user_service.create_user(
            self.ctx, SYSTEM_PRINCIPAL, tenant or self.tenant, UserSpec(username=username), roles=roles
        )
        if not enabled:
            change = user_service.UserChange(enabled=False)
            await user_service.update_user(
                self.ctx, SYSTEM_PRINCIPAL, tenant or self.tenant, username, change
            )
        return str(created.id)


async def impersonator(
    http: httpx.AsyncClient, admin: dict[str, str], tenant: str, client_id: str, **fields: Any
) -> App:
    values = {"allowedGrantTypes": ["client_credentials", TOKEN_EXCHANGE], "allowedScopes": SCOPES, **fields}
    return await register(http, admin, tenant, client_id, **values)


@pytest.fixture
async def s(client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str) -> Setting:
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name="support", description=None, permissions=["clients:read"]
    )
    username = f"Ada-{uuid.uuid4().hex[:6]}"
    user = await user_service.create_user(
        ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username=username, given_name="Ada"), roles=["support"]
    )
    imp = await impersonator(client, admin, tenant, "imp")
    rs = await register(client, admin, tenant, "rs")
    return Setting(ctx, admin, imp, rs, username, str(user.id))


def claims_of(token: str) -> dict[str, Any]:
    return decode_segment(token, 1)


async def refused(s: Setting, status: int, error: str, **request: Any) -> str:
    """``s.exchange(**request)`` is refused with ``error`` and changes nothing; its description."""
    subject_token = request.pop("subject_token", None)
    if subject_token is None:
        subject_token = await s.subject_token()
    async with unchanged(s.ctx):
        response = await s.exchange(subject_token=subject_token, **request)
        return assert_oauth_error(response, status, error)


# --- success -------------------------------------------------------------------------------------


async def test_the_client_gets_an_access_token_for_the_user_naming_itself_as_actor(s: Setting) -> None:
    subject_token = await s.subject_token()
    subject = claims_of(subject_token)
    body = assert_json(await s.exchange(subject_token=subject_token), 200)
    assert set(body) == {"access_token", "issued_token_type", "token_type", "expires_in", "scope"}
    assert body["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert body["token_type"] == "Bearer"
    # the subject token's scope without users:impersonate, as far as the user's roles reach
    assert body["scope"] == "clients:read profile"
    assert decode_segment(body["access_token"], 0)["typ"] == "at+jwt"
    claims = claims_of(body["access_token"])
    assert claims["sub"] == s.user_id
    assert claims["client_id"] == "imp"
    assert claims["act"] == {"sub": "imp"}
    assert claims["aud"] == AUDIENCE
    assert claims["scope"] == "clients:read profile"
    assert claims["roles"] == ["support"] and claims["client_roles"] == []
    assert "auth_time" not in claims and "sid" not in claims  # the user did not sign in
    assert claims["exp"] <= subject["exp"]
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert claims["jti"] != subject["jti"]


async def test_the_token_never_outlives_the_subject_token(s: Setting) -> None:
    subject_token = await s.subject_token()  # 300 s
    await admin_patch(s.imp, s.admin, accessTokenLifetime=3600)
    body = assert_json(await s.exchange(subject_token=subject_token), 200)
    claims, subject = claims_of(body["access_token"]), claims_of(subject_token)
    assert claims["exp"] == subject["exp"]
    assert 0 < body["expires_in"] <= 300


async def test_the_user_is_found_by_username_in_any_case(s: Setting) -> None:
    for name in (s.username, s.username.upper(), s.username.lower()):
        body = assert_json(await s.exchange(requested_subject=name), 200)
        assert claims_of(body["access_token"])["sub"] == s.user_id


async def test_scope_narrows_and_requested_token_type_access_token_is_accepted(s: Setting) -> None:
    body = assert_json(
        await s.exchange(scope="clients:read", requested_token_type=ACCESS_TOKEN_TYPE, audience=AUDIENCE), 200
    )
    assert body["scope"] == "clients:read"
    assert claims_of(body["access_token"])["aud"] == AUDIENCE
    # a scope the subject token carries but the user's roles do not reach is left out (DESIGN §6)
    wide = await s.subject_token("users:impersonate events:read profile")
    body = assert_json(await s.exchange(subject_token=wide, scope="events:read profile"), 200)
    assert body["scope"] == "profile"


async def test_each_exchange_is_audited_once_with_both_parties(s: Setting) -> None:
    body = assert_json(await s.exchange(), 200)
    (event,) = await audit_events(s.ctx, "user.impersonated", s.user_id)
    claims = claims_of(body["access_token"])
    assert event.actor == "client:imp"
    assert event.actor_client_id == "imp" and event.actor_tenant == s.tenant
    assert event.target_type == "user"
    assert event.changes == {"clientId": "imp", "jti": claims["jti"], "scope": ["clients:read", "profile"]}
    assert body["access_token"] not in str(event.changes)


async def test_the_token_acts_as_the_user_on_the_admin_api_and_introspects_with_act(s: Setting) -> None:
    token = assert_json(await s.exchange(), 200)["access_token"]
    listed = await s.imp.http.get(f"{ADMIN}/{s.tenant}/clients", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    assert {c["clientId"] for c in listed.json()["items"]} >= {"imp", "rs"}
    # clients:write is neither the user's nor in the token
    denied = await s.imp.http.post(
        f"{ADMIN}/{s.tenant}/clients", json={"clientId": "x"}, headers=bearer(token)
    )
    assert denied.status_code == 403, denied.text
    body = await introspected(s.rs, token)
    assert body["active"] is True
    assert body["sub"] == s.user_id and body["client_id"] == "imp" and body["act"] == {"sub": "imp"}
    assert body["scope"] == "clients:read profile"


async def test_a_change_made_with_the_token_is_recorded_as_the_user_through_the_client(
    s: Setting, ctx: Context
) -> None:
    await role_service.create_role(
        ctx,
        SYSTEM_PRINCIPAL,
        s.tenant,
        name="writer",
        description=None,
        permissions=["clients:write", "clients:read"],
    )
    await admin_patch(s.imp, s.admin, allowedScopes=[*SCOPES, "clients:write"])
    user_id = await s.user(roles=["writer"])
    subject_token = await s.subject_token("users:impersonate clients:write")
    token = assert_json(await s.exchange(subject_token=subject_token, requested_subject=user_id), 200)[
        "access_token"
    ]
    created = await s.imp.http.post(
        f"{ADMIN}/{s.tenant}/clients", json={"clientId": "made-by-ada"}, headers=bearer(token)
    )
    assert created.status_code == 201, created.text
    (event,) = await audit_events(ctx, "client.created", "made-by-ada")
    assert (event.actor, event.actor_client_id) == (f"user:{user_id}", "imp")


async def test_disabling_or_deleting_the_user_ends_the_token(s: Setting) -> None:
    token = assert_json(await s.exchange(), 200)["access_token"]
    assert (await introspected(s.rs, token))["active"] is True
    change = user_service.UserChange(enabled=False)
    await user_service.update_user(s.ctx, SYSTEM_PRINCIPAL, s.tenant, s.user_id, change)
    assert await introspected(s.rs, token) == {"active": False}
    answer = await s.imp.http.get(f"{ADMIN}/{s.tenant}/clients", headers=bearer(token))
    assert answer.status_code == 401
    await user_service.update_user(
        s.ctx, SYSTEM_PRINCIPAL, s.tenant, s.user_id, user_service.UserChange(enabled=True)
    )
    token = assert_json(await s.exchange(), 200)["access_token"]
    await user_service.delete_user(s.ctx, SYSTEM_PRINCIPAL, s.tenant, s.user_id)
    assert await introspected(s.rs, token) == {"active": False}


async def test_discovery_lists_the_grant(s: Setting) -> None:
    document = (await s.imp.http.get(f"/t/{s.tenant}/.well-known/openid-configuration")).json()
    assert TOKEN_EXCHANGE in document["grant_types_supported"]


# --- the request -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "description"),
    [
        ({"requested_subject": ""}, "requested_subject (a user's id or username) is required"),
        ({"subject_token_type": ""}, f"subject_token_type must be {ACCESS_TOKEN_TYPE}"),
        (
            {"subject_token_type": "urn:ietf:params:oauth:token-type:id_token"},
            f"subject_token_type must be {ACCESS_TOKEN_TYPE}",
        ),
        (
            {"subject_token_type": "urn:ietf:params:oauth:token-type:jwt"},
            f"subject_token_type must be {ACCESS_TOKEN_TYPE}",
        ),
        (
            {"requested_token_type": "urn:ietf:params:oauth:token-type:refresh_token"},
            f"requested_token_type must be {ACCESS_TOKEN_TYPE} (or absent)",
        ),
        (
            {"requested_token_type": "urn:ietf:params:oauth:token-type:id_token"},
            f"requested_token_type must be {ACCESS_TOKEN_TYPE} (or absent)",
        ),
    ],
    ids=["no-requested-subject", "no-subject-token-type", "id-token-type", "jwt-type", "refresh", "id-token"],
)
async def test_a_malformed_request_is_invalid_request(
    s: Setting, form: dict[str, str], description: str
) -> None:
    assert await refused(s, 400, "invalid_request", **form) == description


async def test_a_missing_subject_token_is_invalid_request(s: Setting) -> None:
    assert await refused(s, 400, "invalid_request", subject_token="") == "subject_token is required"


@pytest.mark.parametrize(
    "actor", [{"actor_token": "x", "actor_token_type": ACCESS_TOKEN_TYPE}, {"actor_token": "x"}]
)
async def test_an_actor_token_is_refused_with_the_reason(s: Setting, actor: dict[str, str]) -> None:
    actor = {**actor, "actor_token": await s.subject_token()}
    description = await refused(s, 400, "invalid_request", **actor)
    assert description == (
        "actor_token is not supported: this server offers impersonation only, "
        "and the authenticated client is the actor"
    )


@pytest.mark.parametrize(
    ("form", "description"),
    [
        ({"resource": "https://elsewhere.example.com/api"}, "the resource is not known to this server"),
        ({"resource": "/api"}, "resource must be an absolute URI"),
        ({"audience": "https://elsewhere.example.com/api"}, "the audience is not known to this server"),
        ({"audience": "billing"}, "the audience is not known to this server"),
    ],
)
async def test_an_unknown_target_is_invalid_target(
    s: Setting, form: dict[str, str], description: str
) -> None:
    assert await refused(s, 400, "invalid_target", **form) == description


async def test_the_registered_resource_is_accepted(s: Setting) -> None:
    body = assert_json(await s.exchange(resource=AUDIENCE, audience=AUDIENCE), 200)
    assert claims_of(body["access_token"])["aud"] == AUDIENCE


@pytest.mark.parametrize(
    ("scope", "description"),
    [
        ("events:read clients:write", "a requested scope is not carried by the subject token"),
        ("openid", "a requested scope is not carried by the subject token"),
        ("users:impersonate", "an impersonation token cannot carry users:impersonate"),
        ("clients:read users:impersonate", "an impersonation token cannot carry users:impersonate"),
    ],
)
async def test_scope_cannot_widen(s: Setting, scope: str, description: str) -> None:
    subject_token = await s.subject_token("users:impersonate clients:read")
    assert await refused(s, 400, "invalid_scope", subject_token=subject_token, scope=scope) == description


# --- the client --------------------------------------------------------------------------------------


async def test_a_client_without_users_impersonate_is_unauthorized(
    s: Setting, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    other = await impersonator(client, admin, s.tenant, "plain", allowedScopes=["clients:read"])
    subject_token = await other.access_token()
    async with unchanged(s.ctx):
        response = await s.exchange(other, subject_token=subject_token)
    description = assert_oauth_error(response, 400, "unauthorized_client")
    assert description == "this client does not hold the permission users:impersonate"


async def test_losing_users_impersonate_ends_the_right_at_once(s: Setting) -> None:
    subject_token = await s.subject_token()
    await admin_patch(s.imp, s.admin, allowedScopes=["clients:read", "profile"])
    assert await refused(s, 400, "unauthorized_client", subject_token=subject_token) == (
        "this client does not hold the permission users:impersonate"
    )


async def test_a_client_without_the_grant_is_unauthorized(
    s: Setting, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    other = await impersonator(client, admin, s.tenant, "cc-only", allowedGrantTypes=["client_credentials"])
    async with unchanged(s.ctx):
        response = await s.exchange(other, subject_token=await other.access_token())
    assert (
        assert_oauth_error(response, 400, "unauthorized_client")
        == f"this client may not use the {TOKEN_EXCHANGE} grant"
    )


async def test_a_public_client_is_unauthorized(
    s: Setting, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body: dict[str, Any] = {
        "clientId": "spa",
        "requireClientSecret": False,
        "allowedGrantTypes": [TOKEN_EXCHANGE],
        "allowedScopes": ["users:impersonate"],
    }
    url = f"{ADMIN}/{s.tenant}/clients"
    # a public client cannot be given the grant at all ...
    problem = assert_problem(await client.post(url, json=body, headers=admin), 422, "validation-error")
    assert "token exchange needs a confidential client" in str(problem)
    # ... and one without it is refused at the token endpoint
    assert (await client.post(url, json=body | {"allowedGrantTypes": []}, headers=admin)).status_code == 201
    form = {
        "grant_type": TOKEN_EXCHANGE,
        "client_id": "spa",
        "subject_token": await s.subject_token(),
        "subject_token_type": ACCESS_TOKEN_TYPE,
        "requested_subject": s.user_id,
    }
    async with unchanged(s.ctx):
        response = await client.post(f"/t/{s.tenant}/token", data=form, headers=FORM)
    description = assert_oauth_error(response, 400, "unauthorized_client")
    assert description == f"this client may not use the {TOKEN_EXCHANGE} grant"


async def test_a_wrong_secret_is_invalid_client(s: Setting) -> None:
    wrong = App(s.imp.http, s.tenant, "imp", s.imp.secret[:-1] + "x")
    async with unchanged(s.ctx):
        response = await s.exchange(wrong, subject_token=await s.subject_token())
    assert_invalid_client(response, basic=True)


# --- the subject token ---------------------------------------------------------------------------


async def expired(s: Setting) -> str:
    view = await s.ctx.cache.tenant(s.tenant)
    client = await s.ctx.cache.client(view, "imp") if view else None
    assert view is not None and client is not None
    now = int(time.time())
    claims = claims_of(await s.subject_token()) | {
        "iat": now - 301,
        "exp": now - 1,
        "jti": f"{client.binding}.old",
    }
    return view.keys[0].signer.sign(claims)


async def revoked(s: Setting) -> str:
    token = await s.subject_token()
    assert (await s.imp.revoke(token)).status_code == 200
    return token


async def of_another_client(s: Setting) -> str:
    other = await impersonator(s.imp.http, s.admin, s.tenant, "imp2")
    return await other.access_token(scope="users:impersonate clients:read")


async def of_another_tenant(s: Setting) -> str:
    # a client of the same clientId and rights in a second tenant
    other = await impersonator(s.imp.http, s.admin, await make_tenant(s.ctx), "imp")
    return await other.access_token(scope="users:impersonate clients:read")


async def garbage(_s: Setting) -> str:
    return "not-a-token"


async def a_user_token(s: Setting) -> str:
    """The client's own impersonation token: exchanges do not chain."""
    token: str = assert_json(await s.exchange(), 200)["access_token"]
    return token


async def of_the_deleted_and_recreated_client(s: Setting) -> str:
    token = await s.subject_token()
    assert (await s.imp.http.delete(s.imp.admin_url(), headers=s.admin)).status_code == 204
    s.imp = await impersonator(s.imp.http, s.admin, s.tenant, "imp")
    return token


SUBJECT_TOKENS = {
    "expired": expired,
    "revoked": revoked,
    "another client's": of_another_client,
    "another tenant's": of_another_tenant,
    "garbage": garbage,
    "a user's token": a_user_token,
    "the client's previous record's": of_the_deleted_and_recreated_client,
}


@pytest.mark.parametrize("make", SUBJECT_TOKENS.values(), ids=SUBJECT_TOKENS.keys())
async def test_a_subject_token_that_does_not_qualify_is_invalid_request(s: Setting, make: Any) -> None:
    subject_token = await make(s)
    assert await refused(s, 400, "invalid_request", subject_token=subject_token) == INVALID_SUBJECT_TOKEN


async def test_a_subject_token_without_users_impersonate_is_invalid_request(s: Setting) -> None:
    subject_token = await s.subject_token("clients:read")
    description = await refused(s, 400, "invalid_request", subject_token=subject_token)
    assert description == "the subject_token does not carry users:impersonate"


# --- the user --------------------------------------------------------------------------------------


async def unknown_id(_s: Setting) -> str:
    return str(uuid.uuid4())


async def unknown_name(_s: Setting) -> str:
    return "nobody-" + uuid.uuid4().hex[:6]


async def disabled(s: Setting) -> str:
    return await s.user(roles=["support"], enabled=False)


async def of_another_tenant_by_id(s: Setting) -> str:
    return await s.user(roles=[], tenant=await make_tenant(s.ctx))


USERS = {
    "unknown id": unknown_id,
    "unknown username": unknown_name,
    "disabled": disabled,
    "another tenant's": of_another_tenant_by_id,
}


@pytest.mark.parametrize("make", USERS.values(), ids=USERS.keys())
async def test_a_user_that_is_not_an_enabled_user_of_the_tenant_is_invalid_request(
    s: Setting, make: Any
) -> None:
    assert await refused(s, 400, "invalid_request", requested_subject=await make(s)) == NO_SUCH_USER


async def test_a_user_holding_a_permission_the_client_lacks_is_refused(s: Setting, ctx: Context) -> None:
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, s.tenant, name="writer", description=None, permissions=["users:write"]
    )
    for roles in (["writer"], ["support", "writer"], ["admin"]):  # admin: every permission
        user_id = await s.user(roles=roles)
        description = await refused(s, 400, "invalid_request", requested_subject=user_id)
        assert description == "the user holds permissions this client cannot grant itself"
    # the same user is fine once the client holds what the user holds
    await admin_patch(s.imp, s.admin, allowedScopes=[*SCOPES, "users:write"])
    user_id = await s.user(roles=["writer"])
    assert (await s.exchange(requested_subject=user_id)).status_code == 200


async def test_restrict_to_role_applies(s: Setting, ctx: Context) -> None:
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, s.tenant, name="staff", description=None, permissions=[]
    )
    await admin_patch(s.imp, s.admin, restrictToRole="staff")
    assert await refused(s, 400, "invalid_request") == "the user may not use this client"
    staff = await s.user(roles=["staff"])
    assert (await s.exchange(requested_subject=staff)).status_code == 200


# --- interop -----------------------------------------------------------------------------------------


async def test_authlib_exchanges_at_the_endpoint_discovery_names(s: Setting, ctx: Context) -> None:
    """Authlib's OAuth 2.0 client, knowing nothing of Pforte: discovery, then client credentials,
    then the exchange as an extension grant (RFC 6749 §4.5) with client_secret_basic."""
    # Authlib runs on httpx2 (as in tests/e2e/test_interop.py): its own ASGI transport.
    transport = httpx2.ASGITransport(app=create_app(ctx.settings, ctx))
    async with AsyncOAuth2Client(
        "imp", s.imp.secret, transport=transport, token_endpoint_auth_method="client_secret_basic"
    ) as oauth:
        discovery = f"{PUBLIC_URL}/t/{s.tenant}/.well-known/openid-configuration"
        metadata = (await oauth.request("GET", discovery, withhold_token=True)).json()
        assert TOKEN_EXCHANGE in metadata["grant_types_supported"]
        endpoint = metadata["token_endpoint"]
        subject = await oauth.fetch_token(
            endpoint, grant_type="client_credentials", scope="users:impersonate clients:read"
        )
        exchanged = await oauth.fetch_token(
            endpoint,
            grant_type=TOKEN_EXCHANGE,
            subject_token=subject["access_token"],
            subject_token_type=ACCESS_TOKEN_TYPE,
            requested_subject=s.username,
        )
    assert exchanged["issued_token_type"] == ACCESS_TOKEN_TYPE
    assert exchanged["scope"] == "clients:read" and "refresh_token" not in exchanged
    claims = claims_of(exchanged["access_token"])
    assert (claims["sub"], claims["act"]) == (s.user_id, {"sub": "imp"})


async def test_an_impersonation_token_acts_on_the_user_api_as_the_user(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    """The token reaches the User API with what the user's roles hold, no more (DESIGN §6, §7),
    and what it changes is recorded with the user as the actor."""
    await role_service.create_role(
        ctx,
        SYSTEM_PRINCIPAL,
        tenant,
        name="helpdesk",
        description=None,
        permissions=["users:read", "users:write"],
    )
    await role_service.create_role(
        ctx, SYSTEM_PRINCIPAL, tenant, name="viewer", description=None, permissions=["users:read"]
    )
    helper = await user_service.create_user(
        ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username="helper"), roles=["helpdesk"]
    )
    viewer = await user_service.create_user(
        ctx, SYSTEM_PRINCIPAL, tenant, UserSpec(username="viewer"), roles=["viewer"]
    )
    imp = await impersonator(
        client, admin, tenant, "desk", allowedScopes=["users:impersonate", "users:read", "users:write"]
    )
    users = f"/api/users/v1/tenants/{tenant}/users"

    async def acting_as(user_id: str) -> dict[str, str]:
        subject = await imp.access_token(scope="users:impersonate users:read users:write")
        answer = await imp.post(
            "token",
            {
                "grant_type": TOKEN_EXCHANGE,
                "subject_token": subject,
                "subject_token_type": ACCESS_TOKEN_TYPE,
                "requested_subject": user_id,
            },
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    as_viewer = await acting_as(str(viewer.id))
    assert (await client.get(users, headers=as_viewer)).status_code == 200
    refused_write = await client.patch(f"{users}/viewer", json={"givenName": "X"}, headers=as_viewer)
    assert refused_write.status_code == 403
    assert 'scope="users:write"' in refused_write.headers["www-authenticate"]
    as_helper = await acting_as(str(helper.id))
    changed = await client.patch(f"{users}/viewer", json={"givenName": "Vera"}, headers=as_helper)
    assert changed.status_code == 200, changed.text
    [event] = await audit_events(ctx, "user.updated", str(viewer.id))
    assert (event.actor, event.actor_client_id) == (f"user:{helper.id}", "desk")
