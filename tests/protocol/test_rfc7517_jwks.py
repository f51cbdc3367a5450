"""RFC 7517 §5: the tenant's JWK Set publishes its public signing keys, never private material."""

from __future__ import annotations

import uuid

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jws
from joserfc.jwk import ECKey, KeySet, RSAKey

from pforte.services.context import Context
from pforte.services.keys import seal_context
from pforte.store.repos.tenants import SigningKeyRepo, TenantRepo
from tests.conftest import make_tenant

pytestmark = pytest.mark.anyio
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


async def private_key_of(ctx: Context, slug: str) -> bytes:
    async with ctx.db.transaction() as session:
        tenant = await TenantRepo(session).get_by_slug(slug)
        assert tenant is not None
        (row,) = await SigningKeyRepo(session).list(tenant.id)
        return ctx.sealer.open(row.private_key_sealed, context=seal_context(tenant, row.kid))


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
