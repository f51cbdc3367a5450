"""RFC 9068 JWT access tokens: the exact header and claims the token endpoint issues, verified
through joserfc with the tenant's JWK Set, and the hot-path signer (``security.jws``) checked
against joserfc for both algorithms a tenant may use."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from pforte.security.jws import CompactSigner
from pforte.security.keys import generate
from pforte.services.context import Context
from tests.protocol.oauth import ADMIN, AUDIENCE, App, Scene, decode_segment, introspected, issuer, register

pytestmark = pytest.mark.anyio
CLAIMS = {"iss", "sub", "aud", "client_id", "scope", "iat", "exp", "jti"}


async def jwks(http: httpx.AsyncClient, tenant: str) -> KeySet:
    return KeySet.import_key_set((await http.get(f"/t/{tenant}/jwks")).json())


async def verified(app: App, token: str, alg: str) -> jwt.Token:
    """The token verified through joserfc with the published keys, its registered claims checked."""
    decoded = jwt.decode(token, await jwks(app.http, app.tenant), algorithms=[alg])
    # A leeway: a one-second token issued late in a second (iat is whole seconds) is already
    # expired a few milliseconds later, which is right, but not what these tests look at.
    jwt.JWTClaimsRegistry(
        leeway=5,
        iss={"essential": True, "value": issuer(app.tenant)},
        aud={"essential": True, "value": AUDIENCE},
        sub={"essential": True, "value": app.client_id},
        exp={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
    ).validate(decoded.claims)
    return decoded


async def rs256_tenant(http: httpx.AsyncClient, admin: dict[str, str]) -> str:
    body = {"slug": f"rs-{uuid.uuid4().hex[:10]}", "signingAlg": "RS256"}
    response = await http.post(ADMIN, json=body, headers=admin)
    assert response.status_code == 201, response.text
    slug: str = response.json()["slug"]
    return slug


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
async def test_header_and_claims_are_exactly_those_of_rfc9068(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, alg: str
) -> None:
    slug = tenant if alg == "ES256" else await rs256_tenant(client, admin)
    app = await register(client, admin, slug)
    start = int(time.time())
    body = await app.token_response()
    end = int(time.time())
    token = body["access_token"]
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}

    decoded = await verified(app, token, alg)
    (published,) = (await client.get(f"/t/{slug}/jwks")).json()["keys"]
    assert decoded.header == {"alg": alg, "kid": published["kid"], "typ": "at+jwt"}
    assert published["alg"] == alg
    claims = decoded.claims
    assert set(claims) == CLAIMS
    assert {k: claims[k] for k in ("iss", "sub", "aud", "client_id", "scope")} == {
        "iss": f"http://127.0.0.1:8000/t/{slug}",
        "sub": "svc",
        "aud": "http://127.0.0.1:8000/api",
        "client_id": "svc",
        "scope": "clients:read events:read",
    }
    assert start <= claims["iat"] <= end
    assert all(isinstance(claims[k], int) for k in ("iat", "exp"))
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    assert token.count(".") == 2 and "=" not in token


@pytest.mark.parametrize("lifetime", [1, 60, 300, 86400])
async def test_exp_minus_iat_is_expires_in_is_the_clients_lifetime(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str, lifetime: int
) -> None:
    app = await register(client, admin, tenant, accessTokenLifetime=lifetime)
    body = await app.token_response()
    claims = (await verified(app, body["access_token"], "ES256")).claims
    assert claims["exp"] - claims["iat"] == body["expires_in"] == lifetime


async def test_a_changed_lifetime_applies_to_the_next_token(
    client: httpx.AsyncClient, admin: dict[str, str], tenant: str
) -> None:
    app = await register(client, admin, tenant)
    assert (await app.token_response())["expires_in"] == 300
    response = await client.patch(app.admin_url(), json={"accessTokenLifetime": 120}, headers=admin)
    assert response.status_code == 200, response.text
    body = await app.token_response()
    claims = decode_segment(body["access_token"], 1)
    assert claims["exp"] - claims["iat"] == body["expires_in"] == 120


async def test_every_token_has_its_own_jti(scene: Scene) -> None:
    tokens = [await scene.svc.access_token() for _ in range(20)]
    assert len(set(tokens)) == 20
    assert len({decode_segment(token, 1)["jti"] for token in tokens}) == 20


@pytest.mark.parametrize(
    ("allowed", "requested", "granted"),
    [
        (["clients:read", "events:read"], None, "clients:read events:read"),
        (["clients:read", "events:read"], "events:read", "events:read"),
        (["clients:read", "events:read"], "events:read clients:read", "events:read clients:read"),
        (["clients:read", "events:read"], "events:read  events:read", "events:read"),
        (["clients:read", "events:read"], "", "clients:read events:read"),
        ([], None, None),
        ([], "", None),
    ],
    ids=["all", "one", "order-kept", "repeated", "empty-parameter", "none-allowed", "none-allowed-empty"],
)
async def test_scope_is_present_only_when_scopes_are_granted(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    tenant: str,
    allowed: list[str],
    requested: str | None,
    granted: str | None,
) -> None:
    app = await register(client, admin, tenant, allowedScopes=allowed)
    body = await app.token_response(**({} if requested is None else {"scope": requested}))
    claims = (await verified(app, body["access_token"], "ES256")).claims
    assert body.get("scope") == claims.get("scope") == granted
    expected = CLAIMS if granted else CLAIMS - {"scope"}
    assert set(claims) == expected
    assert set(body) == {"access_token", "token_type", "expires_in"} | ({"scope"} if granted else set())


async def test_an_rs256_tenants_tokens_are_introspected_as_active(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context
) -> None:
    slug = await rs256_tenant(client, admin)
    app, rs = await register(client, admin, slug), await register(client, admin, slug, "rs")
    token = await app.access_token()
    assert await introspected(rs, token) == {
        "active": True,
        "token_type": "Bearer",
        **decode_segment(token, 1),
    }


# --- the hot-path signer against joserfc --------------------------------------------------------


SAMPLE_CLAIMS: dict[str, Any] = {
    "iss": "http://127.0.0.1:8000/t/acme",
    "sub": "svc",
    "aud": "http://127.0.0.1:8000/api",
    "client_id": "svc",
    "scope": "clients:read",
    "iat": 1_700_000_000,
    "exp": 1_700_000_300,
    "jti": "3q2-7wAAAAAAAAAAAAAAAA",
    "name": 'Zoë / 東京 "quoted" \\ backslash',
}


def public_key(der: bytes, alg: str) -> ECKey | RSAKey:
    private = serialization.load_der_private_key(der, password=None)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return (ECKey if alg == "ES256" else RSAKey).import_key(pem)


def signature_of(token: str) -> bytes:
    segment = token.rsplit(".", 1)[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_compact_signer_output_verifies_with_joserfc(alg: str) -> None:
    key = generate(alg)
    header = {"alg": alg, "kid": key.kid, "typ": "at+jwt"}
    signer = CompactSigner(key.private_pkcs8, header)
    public = public_key(key.private_pkcs8, alg)
    short_r_or_s = alg == "RS256"
    for i in range(3000):  # ES256: on until an r or s shorter than 32 bytes has been padded
        claims = {**SAMPLE_CLAIMS, "jti": f"jti-{i}"}
        token = signer.sign(claims)
        decoded = jwt.decode(token, public, algorithms=[alg])
        assert decoded.header == header
        assert decoded.claims == claims
        assert jws.deserialize_compact(token, public, algorithms=[alg]).protected == header
        signature = signature_of(token)
        assert len(signature) == (64 if alg == "ES256" else 256)
        short_r_or_s = short_r_or_s or 0 in (signature[0], signature[32])
        if short_r_or_s and i >= 20:
            break
    assert short_r_or_s


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
async def test_the_tenants_signer_verifies_with_its_published_key(
    client: httpx.AsyncClient, admin: dict[str, str], ctx: Context, tenant: str, alg: str
) -> None:
    slug = tenant if alg == "ES256" else await rs256_tenant(client, admin)
    view = await ctx.cache.tenant(slug)
    assert view is not None
    (key,) = view.keys
    token = key.signer.sign(SAMPLE_CLAIMS)
    decoded = jwt.decode(token, await jwks(client, slug), algorithms=[alg])
    assert decoded.header == {"alg": alg, "kid": key.kid, "typ": "at+jwt"}
    assert decoded.claims == SAMPLE_CLAIMS


def private_der(kind: str) -> bytes:
    if kind == "P-384":
        private = ec.generate_private_key(ec.SECP384R1())
        return private.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    return generate(kind).private_pkcs8


@pytest.mark.parametrize(
    ("alg", "kind"), [("ES256", "RS256"), ("RS256", "ES256"), ("ES256", "P-384"), ("HS256", "ES256")]
)
def test_compact_signer_refuses_a_key_that_does_not_fit_the_algorithm(alg: str, kind: str) -> None:
    with pytest.raises(ValueError, match=r"ES256 needs a P-256 key|does not fit"):
        CompactSigner(private_der(kind), {"alg": alg, "kid": "k", "typ": "at+jwt"})
