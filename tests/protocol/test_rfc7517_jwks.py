"""RFC 7517 §5: the tenant's JWK Set publishes its public signing keys, never private material —
every key that may still verify a live token, and a rotated-in key before it signs."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from pforte.app import create_app
from pforte.domain.clock import utcnow
from pforte.domain.events import CLI_ACTOR
from pforte.domain.oauth import signing_keys
from pforte.security.keys import seal_context
from pforte.services.context import Context
from pforte.services.keys import rotate_signing_key
from pforte.settings import Settings
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo
from tests.conftest import make_tenant

pytestmark = pytest.mark.anyio
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


async def private_key_of(ctx: Context, slug: str) -> bytes:
    async with ctx.db.transaction() as session:
        tenant = await TenantRepo(session).get_by_slug(slug)
        assert tenant is not None
        (row,) = await SigningKeyRepo(session).list(tenant.id)
        return ctx.sealer.open(row.private_key_sealed, context=seal_context(tenant.id, row.kid))


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
async def test_jwks_publishes_the_tenant_key_that_verifies_its_signatures(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, alg: str
) -> None:
    slug = (
        await client.post(
            "/api/admin/v1/tenants",
            json={"slug": f"jwks-{alg.lower()}-{uuid.uuid4().hex[:8]}", "signingAlg": alg},
            headers=admin,
        )
    ).json()["slug"]
    response = await client.get(f"/t/{slug}/jwks")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    assert response.headers["cache-control"] == "public, max-age=60"
    keys = response.json()["keys"]
    assert len(keys) == 1
    (key,) = keys
    assert key["alg"] == alg
    assert key["use"] == "sig"
    assert not PRIVATE_MEMBERS & set(key)
    # A signature made with the tenant's sealed private key verifies against the published set.
    der = await private_key_of(ctx, slug)
    private = (ECKey if alg == "ES256" else RSAKey).import_key(der)
    token = jws.serialize_compact({"alg": alg, "kid": key["kid"]}, b"payload", private)
    verified = jws.deserialize_compact(token, KeySet.import_key_set(response.json()))
    assert verified.payload == b"payload"
    assert serialization.load_der_private_key(der, password=None) is not None


async def test_each_tenant_publishes_only_its_own_keys(client: httpx.AsyncClient, ctx: Context) -> None:
    a, b = await make_tenant(ctx), await make_tenant(ctx)
    kids_a = {k["kid"] for k in (await client.get(f"/t/{a}/jwks")).json()["keys"]}
    kids_b = {k["kid"] for k in (await client.get(f"/t/{b}/jwks")).json()["keys"]}
    assert kids_a and kids_b
    assert not kids_a & kids_b


async def test_unknown_tenant_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/t/no-such-tenant/jwks")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "error_description": "no such tenant"}
    assert "cache-control" not in response.headers


async def test_a_tenant_id_is_not_an_issuer_path(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    """The issuer is /t/{slug}: the tenant's UUID does not address its JWKS."""
    tenant_id = (await client.get(f"/api/admin/v1/tenants/{tenant}", headers=admin)).json()["id"]
    assert (await client.get(f"/t/{tenant_id}/jwks")).status_code == 404


# --- rotation with overlap ------------------------------------------------------------------


async def token_for(http: httpx.AsyncClient, tenant: str, secret: str) -> str:
    response = await http.post(
        f"/t/{tenant}/token",
        data={"grant_type": "client_credentials"},
        auth=("svc", secret),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def verify(http: httpx.AsyncClient, tenant: str, token: str) -> str:
    """The kid of ``token``, after its signature verified against the tenant's JWKS now."""
    keys = KeySet.import_key_set((await http.get(f"/t/{tenant}/jwks")).json())
    verified = jwt.decode(token, keys)
    assert verified.claims["client_id"] == "svc"
    kid: str = verified.header["kid"]
    return kid


async def new_confidential_client(http: httpx.AsyncClient, admin: dict[str, str], tenant: str) -> str:
    body = {"clientId": "svc", "allowedScopes": ["users:read"]}
    response = await http.post(f"/api/admin/v1/tenants/{tenant}/clients", json=body, headers=admin)
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]["value"]
    return secret


async def jwks_kids(http: httpx.AsyncClient, tenant: str) -> list[str]:
    body = (await http.get(f"/t/{tenant}/jwks")).json()
    for key in body["keys"]:
        assert not PRIVATE_MEMBERS & set(key)
    return [k["kid"] for k in body["keys"]]


async def test_a_rotated_key_is_published_before_it_signs(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    secret = await new_confidential_client(client, admin, tenant)
    before = await token_for(client, tenant, secret)
    old_kid = await verify(client, tenant, before)
    assert await jwks_kids(client, tenant) == [old_kid]

    rotated = await client.post(f"/api/admin/v1/tenants/{tenant}/keys/rotate", headers=admin)
    new_kid = rotated.json()["kid"]
    assert await jwks_kids(client, tenant) == [old_kid, new_kid]
    # For the next 60 seconds the old key still signs; both tokens verify against the JWKS.
    during = await token_for(client, tenant, secret)
    assert await verify(client, tenant, during) == old_kid
    assert await verify(client, tenant, before) == old_kid


async def test_with_no_publish_ahead_the_new_key_signs_at_once_and_old_tokens_still_verify(
    settings: Settings, tenant: str, admin: dict[str, str]
) -> None:
    context = Context.create(settings.model_copy(update={"key_publish_ahead": 0}))
    app = create_app(context.settings, context)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            secret = await new_confidential_client(http, admin, tenant)
            before = await token_for(http, tenant, secret)
            old_kid = await verify(http, tenant, before)
            rotated = await http.post(f"/api/admin/v1/tenants/{tenant}/keys/rotate", headers=admin)
            new_kid = rotated.json()["kid"]
            after = await token_for(http, tenant, secret)
            assert await verify(http, tenant, after) == new_kid
            assert await verify(http, tenant, before) == old_kid
            assert await jwks_kids(http, tenant) == [old_kid, new_kid]
    finally:
        await context.db.dispose()


async def test_a_key_whose_last_token_has_expired_leaves_the_jwks(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str
) -> None:
    secret = await new_confidential_client(client, admin, tenant)
    old_kid = await verify(client, tenant, await token_for(client, tenant, secret))
    long_ago = utcnow() - signing_keys.LONGEST_TOKEN - timedelta(hours=1)
    rotation = await rotate_signing_key(ctx, tenant_ref=tenant, actor=CLI_ACTOR, now=long_ago)
    assert await jwks_kids(client, tenant) == [rotation.key.kid]
    assert old_kid not in await jwks_kids(client, tenant)
    assert await verify(client, tenant, await token_for(client, tenant, secret)) == rotation.key.kid


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
async def test_every_published_key_is_public_only_after_rotations(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, alg: str
) -> None:
    slug = f"rot-{alg.lower()}-{uuid.uuid4().hex[:8]}"
    await client.post("/api/admin/v1/tenants", json={"slug": slug, "signingAlg": alg}, headers=admin)
    for _ in range(2):
        assert (
            await client.post(f"/api/admin/v1/tenants/{slug}/keys/rotate", headers=admin)
        ).status_code == 201
    keys = (await client.get(f"/t/{slug}/jwks")).json()["keys"]
    assert len(keys) == 3
    allowed = {"kty", "kid", "alg", "use", "crv", "x", "y", "n", "e"}
    for key in keys:
        assert set(key) <= allowed
        assert key["alg"] == alg and key["use"] == "sig"
