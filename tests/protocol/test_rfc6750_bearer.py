"""RFC 6750 Bearer access tokens from ``POST /t/{slug}/token`` at the admin API (DESIGN.md §5).

Every token here is obtained through the token endpoint (client credentials), or forged the way
an attacker would: by hand (``alg: none``, HMAC with a guessed key or with the tenant's public
key), with another tenant's key, with a key of the attacker's own named in ``jku``/``jwk``, or —
to check each claim alone — with the tenant's own key and one claim or header member wrong.
Refusals follow RFC 6750 §3: a bad token is 401 ``invalid_token``, a good token lacking the
permission 403 ``insufficient_scope`` naming it, another tenant 403 ``insufficient_scope``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import update

from pforte.services.context import Context
from pforte.store.tables import ClientRow
from tests.conftest import PUBLIC_URL, assert_problem, audit_events, make_tenant, moment, snapshot
from tests.protocol.test_rfc6749_client_credentials import basic, new_client
from tests.protocol.test_rfc7517_jwks import private_key_of

pytestmark = pytest.mark.anyio
BASE = "/api/admin/v1/tenants"
CHALLENGE = 'Bearer realm="pforte"'
INVALID_TOKEN = 'Bearer realm="pforte", error="invalid_token"'
INSUFFICIENT = 'Bearer realm="pforte", error="insufficient_scope"'
READ_WRITE = ["clients:read", "clients:write"]


def lacking(permission: str) -> str:
    return f'{INSUFFICIENT}, scope="{permission}"'


# --- getting tokens ------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """A client of ``tenant`` that may use the client credentials grant."""

    tenant: str
    client_id: str
    secret: str

    async def token(self, http: httpx.AsyncClient, scope: str | None = None) -> str:
        form = "grant_type=client_credentials" + (f"&scope={scope.replace(' ', '+')}" if scope else "")
        response = await http.post(
            f"/t/{self.tenant}/token", content=form, headers=basic(self.client_id, self.secret)
        )
        assert response.status_code == 200, response.text
        value: str = response.json()["access_token"]
        return value


async def holder(
    http: httpx.AsyncClient,
    admin: dict[str, str],
    tenant: str,
    scopes: list[str],
    client_id: str | None = None,
) -> Holder:
    client_id = client_id or f"svc-{uuid.uuid4().hex[:10]}"
    secret = await new_client(
        http,
        admin,
        tenant,
        clientId=client_id,
        allowedScopes=scopes,
        allowedGrantTypes=["client_credentials"],
    )
    return Holder(tenant, client_id, secret)


async def issue(http: httpx.AsyncClient, admin: dict[str, str], tenant: str, scopes: list[str]) -> str:
    """A fresh token of a fresh client of ``tenant`` holding ``scopes``."""
    return await (await holder(http, admin, tenant, scopes)).token(http)


def clients_of(tenant: str) -> str:
    return f"{BASE}/{tenant}/clients"


def auth(token: str | bytes) -> dict[str, str | bytes]:
    """The Authorization header; a token given as bytes is sent as such (not only ASCII)."""
    return {"Authorization": b"Bearer " + token if isinstance(token, bytes) else f"Bearer {token}"}


async def read(http: httpx.AsyncClient, tenant: str, token: str | bytes) -> httpx.Response:
    return await http.get(clients_of(tenant), headers=auth(token))


async def write(http: httpx.AsyncClient, tenant: str, token: str | bytes) -> httpx.Response:
    body = {"clientId": f"made-{uuid.uuid4().hex[:10]}", "allowedScopes": ["clients:read"]}
    return await http.post(clients_of(tenant), json=body, headers=auth(token))


async def assert_invalid_token(
    http: httpx.AsyncClient, ctx: Context, tenant: str, token: str | bytes
) -> None:
    """401 invalid_token for a read and for a write, and nothing stored."""
    before = await snapshot(ctx)
    for response in (await read(http, tenant, token), await write(http, tenant, token)):
        body = assert_problem(response, 401, "unauthorized")
        assert body["title"] == "Authentication required"
        assert response.headers["www-authenticate"] == INVALID_TOKEN
    assert await snapshot(ctx) == before


async def assert_forbidden(
    ctx: Context, request: Awaitable[httpx.Response], challenge: str
) -> dict[str, Any]:
    """``request`` (not yet sent) is 403 with ``challenge``, and stores nothing."""
    before = await snapshot(ctx)
    response = await request
    body = assert_problem(response, 403, "forbidden")
    assert response.headers["www-authenticate"] == challenge
    assert await snapshot(ctx) == before
    return body


# --- a token and the means to forge its siblings -------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def by_hand(header: dict[str, Any], claims: dict[str, Any], hmac_key: bytes | None) -> str:
    """A compact JWS built without any JOSE library: HS256 over ``hmac_key``, or no signature."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = b"" if hmac_key is None else hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def signed(key: ECKey | RSAKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    return jws.serialize_compact(header, json.dumps(claims), key, algorithms=[header["alg"]])


@dataclass(frozen=True)
class Scene:
    """A tenant, a real token of a client holding clients:read and clients:write, the tenant's
    private key (as a test may use it), another tenant's key, and a key of the attacker's."""

    tenant: str
    alg: str
    token: str
    kid: str
    key: ECKey | RSAKey
    public_jwk: dict[str, Any]
    other_kid: str
    other_key: ECKey | RSAKey
    attacker: ECKey

    @property
    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = unb64(self.token.split(".")[1])
        return claims

    def header(self, **members: Any) -> dict[str, Any]:
        """The real token's header with ``members`` changed (None removes one)."""
        header = {"alg": self.alg, "typ": "at+jwt", "kid": self.kid, **members}
        return {k: v for k, v in header.items() if v is not None}

    def sign(self, header: dict[str, Any] | None = None, **claims: Any) -> str:
        """Signed with the tenant's own key: the real claims with ``claims`` changed (None removes)."""
        merged = {k: v for k, v in {**self.claims, **claims}.items() if v is not None}
        return signed(self.key, header or self.header(), merged)


async def key_of(
    http: httpx.AsyncClient, ctx: Context, slug: str
) -> tuple[str, ECKey | RSAKey, dict[str, Any]]:
    """The kid, private key and published JWK of the tenant's only signing key."""
    (jwk,) = (await http.get(f"/t/{slug}/jwks")).json()["keys"]
    private = (ECKey if jwk["alg"] == "ES256" else RSAKey).import_key(await private_key_of(ctx, slug))
    return jwk["kid"], private, jwk


@pytest.fixture
def signing_alg() -> str:
    return "ES256"


@pytest.fixture
async def scene(client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, signing_alg: str) -> Scene:
    slug = f"t-{uuid.uuid4().hex[:10]}"
    created = await client.post(BASE, json={"slug": slug, "signingAlg": signing_alg}, headers=admin)
    assert created.status_code == 201, created.text
    token = await issue(client, admin, slug, READ_WRITE)
    assert (await read(client, slug, token)).status_code == 200
    kid, key, jwk = await key_of(client, ctx, slug)
    other_kid, other_key, _ = await key_of(client, ctx, await make_tenant(ctx))
    attacker = ECKey.generate_key("P-256", parameters={"kid": kid})
    return Scene(slug, signing_alg, token, kid, key, jwk, other_kid, other_key, attacker)


# --- what a token may do -------------------------------------------------------------------


async def test_token_with_clients_read_reads_but_is_refused_writes(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    reader = await holder(client, admin, tenant, ["clients:read"])
    token = await reader.token(client)
    listed = await read(client, tenant, token)
    assert listed.status_code == 200, listed.text
    assert reader.client_id in [c["clientId"] for c in listed.json()["items"]]
    one = await client.get(f"{clients_of(tenant)}/{reader.client_id}", headers=auth(token))
    assert one.status_code == 200
    assert one.json()["clientId"] == reader.client_id

    own = f"{clients_of(tenant)}/{reader.client_id}"
    for request in (
        write(client, tenant, token),
        client.patch(own, json={"description": "x"}, headers=auth(token)),
        client.delete(own, headers=auth(token)),
        client.post(f"{own}/secrets", json={}, headers=auth(token)),
    ):
        body = await assert_forbidden(ctx, request, lacking("clients:write"))
        assert "clients:write" in body["detail"]


async def test_token_without_any_permission_is_refused_reads(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    token = await issue(client, admin, tenant, ["events:read"])
    await assert_forbidden(ctx, read(client, tenant, token), lacking("clients:read"))


async def test_write_with_a_token_is_audited_as_its_client(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    writer = await holder(client, admin, tenant, READ_WRITE)
    made = await write(client, tenant, await writer.token(client))
    assert made.status_code == 201, made.text
    [event] = await audit_events(ctx, "client.created", made.json()["clientId"])
    assert event.actor == f"client:{writer.client_id}"
    assert event.actor_tenant == tenant
    assert event.actor_client_id == writer.client_id


async def test_token_narrowed_at_the_token_endpoint_grants_only_what_it_carries(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    token = await (await holder(client, admin, tenant, READ_WRITE)).token(client, scope="clients:read")
    assert (await read(client, tenant, token)).status_code == 200
    await assert_forbidden(ctx, write(client, tenant, token), lacking("clients:write"))


# --- tenants -------------------------------------------------------------------------------


async def test_token_reaches_only_its_own_tenant(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    other = await make_tenant(ctx)
    own = await issue(client, admin, tenant, READ_WRITE)
    foreign = await issue(client, admin, other, READ_WRITE)
    # Each token is fine as it is, in its own tenant ...
    assert (await read(client, tenant, own)).status_code == 200
    assert (await read(client, other, foreign)).status_code == 200
    # ... and reaches no other, nor the tenant API.
    for token, elsewhere in ((own, other), (foreign, tenant), (own, "system")):
        for request in (read(client, elsewhere, token), write(client, elsewhere, token)):
            body = await assert_forbidden(ctx, request, INSUFFICIENT)
            assert elsewhere not in json.dumps(body)
    for path in (BASE, f"{BASE}/{tenant}"):
        await assert_forbidden(ctx, client.get(path, headers=auth(own)), lacking("tenants:admin"))


async def test_tenants_admin_token_from_system_is_an_operator(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    operator = await holder(client, admin, "system", ["tenants:admin"])
    token = await operator.token(client)
    listed = await client.get(BASE, headers=auth(token))
    assert listed.status_code == 200, listed.text
    assert listed.json() == (await client.get(BASE, headers=admin)).json()
    assert (await client.get(f"{BASE}/{tenant}", headers=auth(token))).json()["slug"] == tenant
    assert (await read(client, tenant, token)).status_code == 200
    made = await write(client, tenant, token)
    assert made.status_code == 201, made.text
    [event] = await audit_events(ctx, "client.created", made.json()["clientId"])
    assert event.actor == f"client:{operator.client_id}"
    assert event.actor_tenant == "system"


async def test_system_token_narrowed_below_tenants_admin_is_no_operator(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    narrowed = await (await holder(client, admin, "system", ["tenants:admin", "clients:read"])).token(
        client, scope="clients:read"
    )
    assert (await read(client, "system", narrowed)).status_code == 200
    await assert_forbidden(ctx, client.get(BASE, headers=auth(narrowed)), lacking("tenants:admin"))
    await assert_forbidden(ctx, read(client, tenant, narrowed), INSUFFICIENT)


async def test_tenants_admin_outside_system_grants_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    # The admin API does not let a client of another tenant hold tenants:admin ...
    before = await snapshot(ctx)
    refused = await client.post(
        clients_of(tenant),
        json={"clientId": "would-be-operator", "allowedScopes": ["tenants:admin"]},
        headers=admin,
    )
    body = assert_problem(refused, 422, "validation-error")
    assert body["errors"][0]["field"].startswith("allowedScopes")
    assert await snapshot(ctx) == before
    # ... and should one hold it anyway (written straight into the database), its token is no operator's.
    sneaky = await holder(client, admin, tenant, ["clients:read"])
    async with ctx.db.transaction() as session:
        await session.execute(
            update(ClientRow)
            .where(ClientRow.client_id == sneaky.client_id)
            .values(allowed_scopes=["tenants:admin", "clients:read"])
        )
    token = await sneaky.token(client)
    assert unb64(token.split(".")[1])["scope"] == "tenants:admin clients:read"
    assert (await read(client, tenant, token)).status_code == 200
    await assert_forbidden(ctx, client.get(BASE, headers=auth(token)), lacking("tenants:admin"))
    for elsewhere in ("system", await make_tenant(ctx)):
        await assert_forbidden(ctx, read(client, elsewhere, token), INSUFFICIENT)


# --- forged and invalid tokens -------------------------------------------------------------


def _pem(s: Scene) -> bytes:
    return (ECKey if s.alg == "ES256" else RSAKey).import_key(s.public_jwk).as_pem(private=False)


def _altered(s: Scene) -> str:
    header, _, signature = s.token.split(".")
    payload = b64(json.dumps({**s.claims, "scope": "clients:read clients:write tenants:admin"}).encode())
    return f"{header}.{payload}.{signature}"


FORGERIES: dict[str, Callable[[Scene], str | bytes]] = {
    "alg-none": lambda s: by_hand(s.header(alg="none"), s.claims, None),
    "alg-none-uppercase": lambda s: by_hand(s.header(alg="NONE"), s.claims, None),
    "hs256-guessed-key": lambda s: by_hand(s.header(alg="HS256"), s.claims, b"secret"),
    "hs256-public-key-pem": lambda s: by_hand(s.header(alg="HS256"), s.claims, _pem(s)),
    "hs256-public-key-jwk": lambda s: by_hand(
        s.header(alg="HS256"), s.claims, json.dumps(s.public_jwk).encode()
    ),
    "other-tenants-key-and-kid": lambda s: signed(s.other_key, s.header(kid=s.other_kid), s.claims),
    "other-tenants-key-own-kid": lambda s: signed(s.other_key, s.header(), s.claims),
    "payload-altered": _altered,
    "signature-stripped": lambda s: s.token.rsplit(".", 1)[0] + ".",
    "signature-truncated": lambda s: s.token[:-4],
    "typ-JWT": lambda s: s.sign(s.header(typ="JWT")),
    "typ-missing": lambda s: s.sign(s.header(typ=None)),
    "kid-missing": lambda s: s.sign(s.header(kid=None)),
    "kid-unknown": lambda s: s.sign(s.header(kid="no-such-kid")),
    "aud-foreign": lambda s: s.sign(aud="https://evil.example/api"),
    "aud-issuer": lambda s: s.sign(aud=f"{PUBLIC_URL}/t/{s.tenant}"),
    "aud-missing": lambda s: s.sign(aud=None),
    "iss-unknown-tenant": lambda s: s.sign(iss=f"{PUBLIC_URL}/t/no-such-{uuid.uuid4().hex[:8]}"),
    "iss-foreign-url": lambda s: s.sign(iss=f"https://evil.example/t/{s.tenant}"),
    "iss-trailing-slash": lambda s: s.sign(iss=f"{PUBLIC_URL}/t/{s.tenant}/"),
    "iss-system": lambda s: s.sign(iss=f"{PUBLIC_URL}/t/system"),
    "iss-missing": lambda s: s.sign(iss=None),
    "expired": lambda s: s.sign(exp=int(time.time()) - 1, iat=int(time.time()) - 301),
    "exp-missing": lambda s: s.sign(exp=None),
    "nbf-ahead": lambda s: s.sign(nbf=int(time.time()) + 3600),
    "exp-as-string": lambda s: s.sign(exp=str(int(time.time()) + 300)),
    "jti-missing": lambda s: s.sign(jti=None),
    "jti-without-the-client-record-tag": lambda s: s.sign(jti=uuid.uuid4().hex),
    "jti-of-another-client-record": lambda s: s.sign(jti=f"AAAAAAAA.{uuid.uuid4().hex}"),
    "client-unknown": lambda s: s.sign(client_id="no-such-client", sub="no-such-client"),
    "jku-attacker-key": lambda s: signed(
        s.attacker, s.header(alg="ES256", jku="https://evil.example/jwks"), s.claims
    ),
    "jwk-attacker-key": lambda s: signed(
        s.attacker, s.header(alg="ES256", jwk=s.attacker.as_dict(private=False)), s.claims
    ),
    "x5u-attacker-key": lambda s: signed(
        s.attacker, s.header(alg="ES256", x5u="https://evil.example/cert"), s.claims
    ),
    "garbage": lambda _: "garbage",
    "three-garbage-parts": lambda _: "a.b.c",
    "non-ascii": lambda s: s.token.encode() + b"\xe9",
    "oversized": lambda s: s.sign(pad="x" * 9000),
}


def test_the_hand_made_forgeries_are_well_formed() -> None:
    """by_hand makes what a JOSE library would: an HS256 JWS that verifies with the same key."""
    from joserfc.jwk import OctKey

    token = by_hand({"alg": "HS256", "typ": "at+jwt", "kid": "k"}, {"sub": "x"}, b"k" * 32)
    verified = jws.deserialize_compact(token, OctKey.import_key(b"k" * 32), algorithms=["HS256"])
    assert json.loads(verified.payload) == {"sub": "x"}


async def test_a_token_signed_by_hand_with_everything_right_is_accepted(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    """The control for the forgeries below: they fail for the one thing each changes. Media type
    names are case-insensitive (RFC 9068 §4 via RFC 7515 §4.1.9), and ``aud`` may be a list."""
    for token in (
        scene.sign(),
        scene.sign(jti=f"{scene.claims['jti'].split('.')[0]}.{uuid.uuid4().hex}"),  # a new jti, same record
        scene.sign(scene.header(typ="AT+JWT")),
        scene.sign(scene.header(typ="application/at+jwt")),
        scene.sign(aud=[scene.claims["aud"]]),
    ):
        assert (await read(client, scene.tenant, token)).status_code == 200
    assert scene.claims["iss"] == f"{PUBLIC_URL}/t/{scene.tenant}"
    assert unb64(scene.token.split(".")[0]) == scene.header()


@pytest.mark.parametrize("forge", list(FORGERIES.values()), ids=list(FORGERIES))
async def test_forged_or_invalid_token_is_invalid_token(
    client: httpx.AsyncClient, ctx: Context, scene: Scene, forge: Callable[[Scene], str | bytes]
) -> None:
    await assert_invalid_token(client, ctx, scene.tenant, forge(scene))


@pytest.mark.parametrize("signing_alg", ["RS256"])
@pytest.mark.parametrize(
    "forgery", ["alg-none", "hs256-public-key-pem", "hs256-public-key-jwk", "payload-altered"]
)
async def test_key_confusion_is_refused_on_an_rs256_tenant(
    client: httpx.AsyncClient, ctx: Context, scene: Scene, forgery: str
) -> None:
    assert (await read(client, scene.tenant, scene.sign())).status_code == 200
    await assert_invalid_token(client, ctx, scene.tenant, FORGERIES[forgery](scene))


@pytest.mark.parametrize("signing_alg", ["RS256"])
@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256"])
async def test_the_tenants_own_key_under_another_algorithm_is_refused(
    client: httpx.AsyncClient, ctx: Context, scene: Scene, alg: str
) -> None:
    """The algorithm is the stored key's, not the header's, even for a genuine signature."""
    await assert_invalid_token(client, ctx, scene.tenant, scene.sign(scene.header(alg=alg)))


# --- the header ----------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["Bearer {}", "bearer {}", "BEARER {}", "bEaReR {}", "Bearer  {}"])
async def test_bearer_scheme_is_case_insensitive(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, form: str
) -> None:
    """RFC 7235 §2.1: the scheme is case-insensitive, and 1*SP separates it from the token."""
    token = await issue(client, admin, tenant, ["clients:read"])
    response = await client.get(clients_of(tenant), headers={"Authorization": form.format(token)})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer "}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["none", "empty-bearer", "empty-bearer-space", "basic"],
)
async def test_no_bearer_token_is_401_without_error_code(
    client: httpx.AsyncClient, ctx: Context, tenant: str, headers: dict[str, str]
) -> None:
    before = await snapshot(ctx)
    for response in (
        await client.get(clients_of(tenant), headers=headers),
        await client.post(clients_of(tenant), json={"clientId": "x"}, headers=headers),
    ):
        assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == CHALLENGE
    assert await snapshot(ctx) == before


async def test_token_in_the_query_string_is_not_read(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    """RFC 6750 §2.3 is optional (and discouraged); the server takes the header only."""
    token = await issue(client, admin, tenant, ["clients:read"])
    response = await client.get(clients_of(tenant), params={"access_token": token})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == CHALLENGE


# --- a token's life ends with its client, its permission, or its revocation ----------------


async def test_revoked_token_is_invalid_token(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    reader = await holder(client, admin, tenant, ["clients:read"])
    token, sibling = await reader.token(client), await reader.token(client)
    assert (await read(client, tenant, token)).status_code == 200
    revoked = await client.post(
        f"/t/{tenant}/revoke", content=f"token={token}", headers=basic(reader.client_id, reader.secret)
    )
    assert revoked.status_code == 200, revoked.text
    await assert_invalid_token(client, ctx, tenant, token)
    # Only that token: another of the same client lives on.
    assert (await read(client, tenant, sibling)).status_code == 200


@pytest.mark.parametrize(
    ("method", "body", "status"),
    [("PATCH", {"enabled": False}, 200), ("DELETE", None, 204)],
    ids=["client-disabled", "client-deleted"],
)
async def test_token_of_a_disabled_or_deleted_client_is_invalid_token_at_once(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    ctx: Context,
    tenant: str,
    method: str,
    body: dict[str, Any] | None,
    status: int,
) -> None:
    reader = await holder(client, admin, tenant, ["clients:read"])
    token = await reader.token(client)
    assert (await read(client, tenant, token)).status_code == 200
    changed = await client.request(
        method, f"{clients_of(tenant)}/{reader.client_id}", json=body, headers=admin
    )
    assert changed.status_code == status, changed.text
    await assert_invalid_token(client, ctx, tenant, token)


async def deleted_tenant_holder(
    http: httpx.AsyncClient, admin: dict[str, str], ctx: Context
) -> tuple[Holder, str]:
    """A client of a tenant that has since been deleted, and a token it got before."""
    doomed = await holder(http, admin, await make_tenant(ctx), READ_WRITE)
    token = await doomed.token(http)
    assert (await read(http, doomed.tenant, token)).status_code == 200
    assert (await http.delete(f"{BASE}/{doomed.tenant}", headers=admin)).status_code == 204
    return doomed, token


@pytest.mark.parametrize("namesake", [False, True], ids=["gone", "namesake"])
async def test_token_of_a_deleted_tenant_is_invalid_token(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, namesake: bool
) -> None:
    doomed, token = await deleted_tenant_holder(client, admin, ctx)
    if namesake:
        await make_tenant(ctx, doomed.tenant)  # a new tenant of the same slug, with keys of its own
    await assert_invalid_token(client, ctx, doomed.tenant, token)


async def test_client_of_a_deleted_tenant_gets_no_token(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context
) -> None:
    doomed, _ = await deleted_tenant_holder(client, admin, ctx)
    before = await snapshot(ctx)
    response = await client.post(
        f"/t/{doomed.tenant}/token",
        content="grant_type=client_credentials",
        headers=basic(doomed.client_id, doomed.secret),
    )
    assert response.status_code == 404, response.text
    assert response.json() == {"error": "not_found", "error_description": "no such tenant"}
    assert await snapshot(ctx) == before


async def recreate(http: httpx.AsyncClient, admin: dict[str, str], old: Holder) -> tuple[Holder, float]:
    """Delete ``old`` and create a namesake; the namesake and its creation time (epoch seconds)."""
    assert (await http.delete(f"{clients_of(old.tenant)}/{old.client_id}", headers=admin)).status_code == 204
    new = await holder(http, admin, old.tenant, ["clients:read"], client_id=old.client_id)
    got = await http.get(f"{clients_of(old.tenant)}/{old.client_id}", headers=admin)
    return new, moment(got.json()["createdAt"]).timestamp()


async def test_token_of_a_deleted_and_recreated_client_is_invalid_token(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    reader = await holder(client, admin, tenant, ["clients:read"])
    token = await reader.token(client)
    assert (await read(client, tenant, token)).status_code == 200
    await anyio.sleep(1.01 - time.time() % 1)  # the namesake is created in a later second
    namesake, created = await recreate(client, admin, reader)
    assert int(created) > unb64(token.split(".")[1])["iat"]
    await assert_invalid_token(client, ctx, tenant, token)
    assert (await read(client, tenant, await namesake.token(client))).status_code == 200


async def test_token_of_a_client_recreated_within_the_same_second_is_invalid_token(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    await anyio.sleep(1.01 - time.time() % 1)  # all that follows happens within one second
    reader = await holder(client, admin, tenant, ["clients:read"])
    token = await reader.token(client)
    assert (await read(client, tenant, token)).status_code == 200
    namesake, created = await recreate(client, admin, reader)
    assert int(created) == unb64(token.split(".")[1])["iat"], "the test was too slow to stay in one second"
    assert (await read(client, tenant, await namesake.token(client))).status_code == 200
    await assert_invalid_token(client, ctx, tenant, token)


async def allow(http: httpx.AsyncClient, admin: dict[str, str], of: Holder, scopes: list[str]) -> None:
    url = f"{clients_of(of.tenant)}/{of.client_id}"
    assert (await http.patch(url, json={"allowedScopes": scopes}, headers=admin)).status_code == 200


async def test_permission_removed_from_the_client_no_longer_counts(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    writer = await holder(client, admin, tenant, READ_WRITE)
    token = await writer.token(client)
    assert (await write(client, tenant, token)).status_code == 201
    await allow(client, admin, writer, ["clients:read"])
    body = await assert_forbidden(ctx, write(client, tenant, token), lacking("clients:write"))
    assert "clients:write" in body["detail"]
    assert (await read(client, tenant, token)).status_code == 200


async def test_permission_added_to_the_client_does_not_widen_an_issued_token(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    reader = await holder(client, admin, tenant, ["clients:read"])
    token = await reader.token(client)
    await allow(client, admin, reader, READ_WRITE)
    await assert_forbidden(ctx, write(client, tenant, token), lacking("clients:write"))
    assert (await write(client, tenant, await reader.token(client))).status_code == 201
