"""Helpers of the protocol tests: a registered client calling the form endpoints (token,
introspection, revocation), what every answer of those endpoints carries, and tokens made with
a tenant's own signing keys (loaded through the services, as the server loads them)."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx
import orjson
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select

from pforte.domain.credentials import Kind, new_value
from pforte.security.jws import b64url
from pforte.security.keys import seal_context
from pforte.services.context import Context
from pforte.store.tables import SigningKeyRow, TenantRow
from tests.conftest import make_tenant, snapshot

PUBLIC_URL = "http://127.0.0.1:8000"
AUDIENCE = f"{PUBLIC_URL}/api"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ADMIN = "/api/admin/v1/tenants"
INACTIVE = {"active": False}  # RFC 7662 §2.2: and nothing else


def issuer(tenant: str) -> str:
    return f"{PUBLIC_URL}/t/{tenant}"


def typo(value: str) -> str:
    """``value`` with its last character changed."""
    return value[:-1] + ("A" if value[-1] != "A" else "B")


def basic_auth(client_id: str, secret: str) -> dict[str, str]:
    """``client_secret_basic``: id and secret form-encoded, then Base64 (RFC 6749 §2.3.1)."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@dataclass(frozen=True)
class App:
    """A confidential client registered through the admin API, and its first secret."""

    http: httpx.AsyncClient
    tenant: str
    client_id: str
    secret: str

    async def post(self, endpoint: str, form: dict[str, str], *, auth: str = "basic") -> httpx.Response:
        """POST ``form`` to ``/t/{tenant}/{endpoint}``, authenticated by ``auth`` (basic or post)."""
        headers = dict(FORM)
        if auth == "basic":
            headers |= basic_auth(self.client_id, self.secret)
        else:
            assert auth == "post", auth
            form = {**form, "client_id": self.client_id, "client_secret": self.secret}
        return await self.http.post(self.url(endpoint), data=form, headers=headers)

    def url(self, endpoint: str) -> str:
        return f"/t/{self.tenant}/{endpoint}"

    async def token_response(self, **form: str) -> dict[str, Any]:
        response = await self.post("token", {"grant_type": "client_credentials", **form})
        body: dict[str, Any] = assert_json(response, 200)
        return body

    async def access_token(self, **form: str) -> str:
        token: str = (await self.token_response(**form))["access_token"]
        return token

    async def introspect(self, token: str, *, auth: str = "basic", **form: str) -> httpx.Response:
        return await self.post("introspect", {"token": token, **form}, auth=auth)

    async def revoke(self, token: str, *, auth: str = "basic", **form: str) -> httpx.Response:
        return await self.post("revoke", {"token": token, **form}, auth=auth)

    def admin_url(self, suffix: str = "") -> str:
        return f"{ADMIN}/{self.tenant}/clients/{self.client_id}{suffix}"


async def register(
    http: httpx.AsyncClient, admin: dict[str, str], tenant: str, client_id: str = "svc", **fields: Any
) -> App:
    body = {"clientId": client_id, "allowedScopes": ["clients:read", "events:read"], **fields}
    response = await http.post(f"{ADMIN}/{tenant}/clients", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return App(http, tenant, client_id, response.json()["secret"]["value"])


async def new_api_key(app: App, admin: dict[str, str], scopes: list[str], **fields: Any) -> dict[str, Any]:
    """An API key of ``app`` made through the admin API: its public fields and its ``value``."""
    body = {"name": "key", "scopes": scopes, **fields}
    response = await app.http.post(app.admin_url("/api-keys"), json=body, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def admin_patch(app: App, admin: dict[str, str], **fields: Any) -> None:
    response = await app.http.patch(app.admin_url(), json=fields, headers=admin)
    assert response.status_code == 200, response.text


async def admin_delete(app: App, admin: dict[str, str]) -> None:
    assert (await app.http.delete(app.admin_url(), headers=admin)).status_code == 204


@asynccontextmanager
async def unchanged(ctx: Context) -> AsyncIterator[None]:
    """Every row of every table is as it was when the block began."""
    before = await snapshot(ctx)
    yield
    assert await snapshot(ctx) == before


def assert_json(response: httpx.Response, status: int) -> Any:
    """An answer of a form endpoint: JSON that no cache keeps (RFC 6749 §5.1, RFC 7662 §2.2)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    return response.json()


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> str:
    """An RFC 6749 §5.2 error; its description."""
    body = assert_json(response, status)
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    description: str = body["error_description"]
    return description


def assert_invalid_client(response: httpx.Response, *, basic: bool) -> None:
    """401 ``invalid_client``, with a Basic challenge exactly when Basic was tried (§5.2)."""
    assert_oauth_error(response, 401, "invalid_client")
    if basic:
        assert response.headers["www-authenticate"] == 'Basic realm="pforte", charset="UTF-8"'
    else:
        assert "www-authenticate" not in response.headers


# --- tokens made with a tenant's keys -----------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """A tenant's signing key as stored: its ``kid``, algorithm and private key (PKCS#8 DER)."""

    kid: str
    alg: str
    der: bytes

    @property
    def jwk(self) -> ECKey | RSAKey:
        return (ECKey if self.alg == "ES256" else RSAKey).import_key(self.der)

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        """A compact JWS of ``claims`` through joserfc; the header is the server's unless overridden."""
        protected = {"alg": self.alg, "kid": self.kid, "typ": "at+jwt", **header}
        protected = {k: v for k, v in protected.items() if v is not None}
        return jwt.encode(protected, claims, self.jwk, algorithms=[protected["alg"]])


async def signing_key(ctx: Context, tenant: str) -> SigningKey:
    """The tenant's (only) signing key, opened the way the server opens it."""
    async with ctx.db.transaction() as session:
        stmt = select(TenantRow.id, SigningKeyRow).join(
            SigningKeyRow, SigningKeyRow.tenant_id == TenantRow.id
        )
        tenant_id, row = (await session.execute(stmt.where(TenantRow.slug == tenant))).one()
    der = ctx.sealer.open(row.private_key_sealed, context=seal_context(tenant_id, row.kid))
    return SigningKey(row.kid, row.alg, der)


def claims_for(
    tenant: str, client_id: str = "svc", *, binding: str = "unbound", **override: Any
) -> dict[str, Any]:
    """The claims the server would put in a client-credentials token issued now; ``None`` drops one.
    ``binding`` is the client record's tag the server puts in ``jti`` (``Scene.claims`` finds it)."""
    now = int(time.time())
    claims = {
        "iss": issuer(tenant),
        "sub": client_id,
        "aud": AUDIENCE,
        "client_id": client_id,
        "scope": "clients:read",
        "iat": now,
        "exp": now + 300,
        "jti": f"{binding}.forged-{time.time_ns()}",
        **override,
    }
    return {k: v for k, v in claims.items() if v is not None}


def compact(
    header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes] | None = None
) -> str:
    """A compact serialization built by hand (``alg: none`` and other forgeries joserfc refuses
    to make); ``sign`` maps the signing input to the signature (none: an empty signature)."""
    signing_input = b64url(orjson.dumps(header)) + b"." + b64url(orjson.dumps(claims))
    signature = sign(signing_input) if sign else b""
    return (signing_input + b"." + b64url(signature)).decode()


def decode_segment(token: str, index: int) -> dict[str, Any]:
    """The JSON of a compact JWS's header (0) or payload (1), unverified."""
    segment = token.split(".")[index]
    decoded: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


# --- a tenant with two clients, and tokens that are not live there ------------------------------


@dataclass
class Scene:
    """A tenant with the client ``svc`` (holder of the tokens) and ``rs`` (the resource server)."""

    ctx: Context
    admin: dict[str, str]
    svc: App
    rs: App

    async def other_tenant_app(self) -> App:
        """A client ``svc`` with the same permissions in a second tenant."""
        return await register(self.svc.http, self.admin, await make_tenant(self.ctx))

    async def key(self, tenant: str | None = None) -> SigningKey:
        return await signing_key(self.ctx, tenant or self.svc.tenant)

    async def claims(self, client_id: str = "svc", **override: Any) -> dict[str, Any]:
        """``claims_for`` this scene's tenant, ``jti`` bound to the client's record if it exists."""
        view = await self.ctx.cache.tenant(self.svc.tenant)
        assert view is not None
        client = await self.ctx.cache.client(view, client_id)
        binding = client.binding if client is not None else "unbound"
        return claims_for(self.svc.tenant, client_id, binding=binding, **override)


async def introspected(caller: App, token: str, *, auth: str = "basic", **form: str) -> dict[str, Any]:
    body: dict[str, Any] = assert_json(await caller.introspect(token, auth=auth, **form), 200)
    return body


async def is_active(caller: App, token: str, **form: str) -> bool:
    active: bool = (await introspected(caller, token, **form))["active"]
    return active


async def expired_token(s: Scene) -> str:
    """Signed through the server's own signer, with exp in the past."""
    view = await s.ctx.cache.tenant(s.svc.tenant)
    assert view is not None
    now = int(time.time())
    return view.keys[0].signer.sign(await s.claims(iat=now - 301, exp=now - 1))


async def token_of_another_tenant(s: Scene) -> str:
    return await (await s.other_tenant_app()).access_token()


async def unknown_api_key(_s: Scene) -> str:
    return new_value(Kind.API_KEY)


async def api_key_of_another_tenant(s: Scene) -> str:
    value: str = (await new_api_key(await s.other_tenant_app(), s.admin, ["events:read"]))["value"]
    return value
