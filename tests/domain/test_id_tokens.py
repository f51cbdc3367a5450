"""OIDC Core §2 ID Token claims and §3.1.3.6 ``at_hash``."""

from __future__ import annotations

import hashlib
from base64 import urlsafe_b64decode, urlsafe_b64encode
from typing import Any

import pytest

from pforte.domain.oauth.id_tokens import PROTOCOL_CLAIMS, at_hash, id_token_claims

ISSUER = "https://id.example.com/t/acme"
SUBJECT = "0191d3a2-7c4e-7a51-9c1e-3f0b8e2d4a11"
NOW = 1_760_000_000


def independent_at_hash(token: str) -> str:
    """§3.1.3.6 spelled out: SHA-256, left-most 128 bits, base64url without padding."""
    left = hashlib.sha256(token.encode("ascii")).digest()[:16]
    return urlsafe_b64encode(left).decode("ascii").replace("=", "")


# at_hash -------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
@pytest.mark.parametrize(
    "token",
    [
        "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
        "a",
        "",
    ],
)
def test_at_hash_is_the_left_half_of_sha256(token: str, alg: str) -> None:
    value = at_hash(token, alg)
    assert value == independent_at_hash(token)
    assert len(value) == 22 and "=" not in value
    assert urlsafe_b64decode(value + "==") == hashlib.sha256(token.encode()).digest()[:16]


def test_at_hash_published_vector() -> None:
    """The worked example of Ping Identity's developer documentation (RS256)."""
    assert at_hash("dNZX1hEZ9wBCzNL40Upu646bdzQA", "RS256") == "wfgvmE9VxjAudsl9lc6TqA"


@pytest.mark.parametrize("alg", ["HS256", "ES384", "RS512", "PS256", "EdDSA", "none", "es256", "", "ES256 "])
def test_at_hash_refuses_other_algorithms(alg: str) -> None:
    with pytest.raises(ValueError, match="no at_hash for the algorithm"):
        at_hash("token", alg)


# id_token_claims -----------------------------------------------------------------------------


def claims(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "issuer": ISSUER,
        "subject": SUBJECT,
        "audience": "web-app",
        "now": NOW,
        "lifetime": 300,
        "auth_time": NOW - 42,
        "nonce": None,
        "access_token": None,
        "alg": "ES256",
        "sid": None,
        "extra": {},
    }
    arguments.update(overrides)
    return id_token_claims(**arguments)


def test_the_registered_claims_alone() -> None:
    assert claims() == {
        "iss": ISSUER,
        "sub": SUBJECT,
        "aud": "web-app",
        "exp": NOW + 300,
        "iat": NOW,
        "auth_time": NOW - 42,
    }


def test_every_optional_claim() -> None:
    token = "eyJhbGciOiJFUzI1NiJ9.e30.sig"
    assert claims(nonce="n-0S6_WzA2Mj", access_token=token, sid="s-1", alg="RS256") == {
        "iss": ISSUER,
        "sub": SUBJECT,
        "aud": "web-app",
        "exp": NOW + 300,
        "iat": NOW,
        "auth_time": NOW - 42,
        "nonce": "n-0S6_WzA2Mj",
        "at_hash": independent_at_hash(token),
        "sid": "s-1",
    }


def test_nonce_is_carried_exactly() -> None:
    nonce = 'ÄÖü "q" \\ ' + "x" * 500
    assert claims(nonce=nonce)["nonce"] == nonce


def test_an_empty_nonce_is_still_a_nonce() -> None:
    """None means absent; the caller never passes an empty one, but it would not be dropped."""
    assert claims(nonce="")["nonce"] == ""


def test_at_hash_follows_the_algorithm() -> None:
    with pytest.raises(ValueError, match="no at_hash for the algorithm 'HS256'"):
        claims(access_token="t", alg="HS256")
    assert "at_hash" not in claims(alg="HS256")  # no access token, nothing to hash


def test_profile_claims_are_added() -> None:
    extra = {
        "preferred_username": "alice",
        "name": "Alice Example",
        "email": "alice@example.com",
        "email_verified": True,
        "updated_at": NOW - 1000,
    }
    assert claims(extra=extra) == {**claims(), **extra}


def test_extra_never_overrides_a_registered_claim() -> None:
    hostile = {name: "forged" for name in PROTOCOL_CLAIMS} | {"email": "alice@example.com"}
    result = claims(nonce="real", access_token="tok", sid="s-1", extra=hostile)
    assert result == {
        "iss": ISSUER,
        "sub": SUBJECT,
        "aud": "web-app",
        "exp": NOW + 300,
        "iat": NOW,
        "auth_time": NOW - 42,
        "nonce": "real",
        "at_hash": independent_at_hash("tok"),
        "sid": "s-1",
        "email": "alice@example.com",
    }


@pytest.mark.parametrize("name", ["nonce", "sid", "at_hash", "acr", "amr", "azp", "nbf", "jti", "c_hash"])
def test_extra_cannot_add_a_protocol_claim_the_token_lacks(name: str) -> None:
    assert name not in claims(extra={name: "forged"})


def test_none_values_in_extra_are_omitted() -> None:
    """OIDC Core §5.3.2: an absent claim is omitted, not null."""
    assert claims(extra={"email": None, "name": "Alice"}) == {**claims(), "name": "Alice"}


def test_userinfo_output_can_be_passed_as_extra() -> None:
    """userinfo_claims always has sub; it is the same subject and must not clash."""
    assert claims(extra={"sub": SUBJECT, "email": "a@example.com"})["sub"] == SUBJECT
