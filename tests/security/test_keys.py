"""Signing keys (RFC 7638 kid, public JWK), sealing at rest (AES-256-GCM), credential hashing, HKDF."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pforte.security.hashing import CredentialHasher, derive_key
from pforte.security.keys import ALGORITHMS, GeneratedKey, KeySealer, generate

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
REQUIRED_MEMBERS = {"ES256": ("crv", "kty", "x", "y"), "RS256": ("e", "kty", "n")}  # RFC 7638 §3.2
KEY_32 = bytes(range(32))


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rfc7638_thumbprint(jwk: dict[str, object], alg: str) -> str:
    """SHA-256 over the required members, sorted, no whitespace (RFC 7638 §3)."""
    members = {name: jwk[name] for name in REQUIRED_MEMBERS[alg]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


@pytest.fixture(scope="module", params=ALGORITHMS)
def generated(request: pytest.FixtureRequest) -> GeneratedKey:
    return generate(request.param)


# generate -------------------------------------------------------------------------------------


def test_algorithms() -> None:
    assert ALGORITHMS == ("ES256", "RS256")


def test_kid_is_the_rfc7638_thumbprint(generated: GeneratedKey) -> None:
    assert generated.kid == rfc7638_thumbprint(generated.public_jwk, generated.alg)
    assert generated.public_jwk["kid"] == generated.kid
    assert len(b64url_decode(generated.kid)) == 32


def test_public_jwk_has_no_private_members(generated: GeneratedKey) -> None:
    assert PRIVATE_MEMBERS.isdisjoint(generated.public_jwk)
    assert set(generated.public_jwk) == {*REQUIRED_MEMBERS[generated.alg], "kid", "alg", "use"}
    assert (generated.public_jwk["alg"], generated.public_jwk["use"]) == (generated.alg, "sig")


def test_es256_key_is_p256_and_matches_the_private_key() -> None:
    key = generate("ES256")
    private = serialization.load_der_private_key(key.private_pkcs8, password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert isinstance(private.curve, ec.SECP256R1)
    numbers = private.public_key().public_numbers()
    assert key.public_jwk["kty"] == "EC" and key.public_jwk["crv"] == "P-256"
    assert b64url_decode(str(key.public_jwk["x"])) == numbers.x.to_bytes(32, "big")
    assert b64url_decode(str(key.public_jwk["y"])) == numbers.y.to_bytes(32, "big")


def test_rs256_key_is_2048_bit_and_matches_the_private_key() -> None:
    key = generate("RS256")
    private = serialization.load_der_private_key(key.private_pkcs8, password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.key_size == 2048
    numbers = private.public_key().public_numbers()
    assert key.public_jwk["kty"] == "RSA"
    assert key.public_jwk["e"] == "AQAB"
    assert int.from_bytes(b64url_decode(str(key.public_jwk["n"])), "big") == numbers.n


def test_two_keys_differ() -> None:
    first, second = generate("ES256"), generate("ES256")
    assert first.kid != second.kid
    assert first.private_pkcs8 != second.private_pkcs8


@pytest.mark.parametrize("alg", ["HS256", "PS256", "EdDSA", "es256", ""])
def test_other_algorithms_are_refused(alg: str) -> None:
    with pytest.raises(ValueError, match="unsupported signing algorithm"):
        generate(alg)


# KeySealer ------------------------------------------------------------------------------------

PLAINTEXT = b"-----private key bytes-----"
CONTEXT = "pforte-signing-key:tenant-a:kid-1"


def test_sealer_round_trips() -> None:
    sealer = KeySealer(KEY_32)
    sealed = sealer.seal(PLAINTEXT, context=CONTEXT)
    assert sealer.open(sealed, context=CONTEXT) == PLAINTEXT
    assert len(sealed) == 12 + len(PLAINTEXT) + 16  # nonce ‖ ciphertext ‖ GCM tag
    assert PLAINTEXT not in sealed


def test_each_seal_uses_a_fresh_nonce() -> None:
    sealer = KeySealer(KEY_32)
    first, second = sealer.seal(PLAINTEXT, context=CONTEXT), sealer.seal(PLAINTEXT, context=CONTEXT)
    assert first[:12] != second[:12]
    assert first != second
    assert sealer.open(first, context=CONTEXT) == sealer.open(second, context=CONTEXT) == PLAINTEXT


@pytest.mark.parametrize(
    "context", ["pforte-signing-key:tenant-b:kid-1", "pforte-signing-key:tenant-a:kid-2", "", CONTEXT + " "]
)
def test_open_fails_in_another_context(context: str) -> None:
    sealer = KeySealer(KEY_32)
    sealed = sealer.seal(PLAINTEXT, context=CONTEXT)
    with pytest.raises(InvalidTag):
        sealer.open(sealed, context=context)


@pytest.mark.parametrize("position", [0, 11, 12, 20, -17, -1], ids=lambda p: f"byte{p}")
def test_open_fails_on_a_flipped_byte(position: int) -> None:
    """Nonce (0, 11), ciphertext (12, 20, -17) and tag (-1)."""
    sealer = KeySealer(KEY_32)
    sealed = bytearray(sealer.seal(PLAINTEXT, context=CONTEXT))
    sealed[position] ^= 0x01
    with pytest.raises(InvalidTag):
        sealer.open(bytes(sealed), context=CONTEXT)


def test_open_fails_under_another_key() -> None:
    sealed = KeySealer(KEY_32).seal(PLAINTEXT, context=CONTEXT)
    with pytest.raises(InvalidTag):
        KeySealer(bytes(32)).open(sealed, context=CONTEXT)


def test_open_fails_on_a_truncated_value() -> None:
    sealer = KeySealer(KEY_32)
    sealed = sealer.seal(PLAINTEXT, context=CONTEXT)
    with pytest.raises(InvalidTag):
        sealer.open(sealed[:-1], context=CONTEXT)


# CredentialHasher -----------------------------------------------------------------------------


def test_hash_is_hmac_sha256_hex_with_the_pepper() -> None:
    hasher = CredentialHasher(KEY_32)
    expected = hmac.new(KEY_32, b"pfs_value", hashlib.sha256).hexdigest()
    assert hasher.hash("pfs_value") == expected
    assert len(expected) == 64


def test_each_hash_starts_from_the_key_alone() -> None:
    """The hasher keys once and copies per call: no call may see another's input."""
    hasher = CredentialHasher(KEY_32)
    values = ["pfs_a", "", "pfs_a", "ü" * 300, "x" * 5000, "pfs_a"]
    hashes = [hasher.hash(v) for v in values]
    assert hashes == [hmac.new(KEY_32, v.encode(), hashlib.sha256).hexdigest() for v in values]
    assert hashes[0] == hashes[2] == hashes[5]


def test_verify() -> None:
    hasher = CredentialHasher(KEY_32)
    stored = hasher.hash("pfs_right")
    assert hasher.verify("pfs_right", stored) is True
    assert hasher.verify("pfs_wrong", stored) is False
    assert hasher.verify("pfs_righ", stored) is False
    assert hasher.verify("", stored) is False
    assert hasher.verify("pfs_right", stored.upper()) is False
    assert hasher.verify("pfs_right", "") is False


def test_another_pepper_gives_another_hash() -> None:
    stored = CredentialHasher(KEY_32).hash("pfs_right")
    other = CredentialHasher(bytes(32))
    assert other.hash("pfs_right") != stored
    assert other.verify("pfs_right", stored) is False


# derive_key -----------------------------------------------------------------------------------


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """RFC 5869 for one block (L = 32)."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def test_derive_key_is_hkdf_sha256_with_the_pforte_salt() -> None:
    secret = b"server secret of some length...."
    key = derive_key(secret, "credential-hash")
    assert key == hkdf_sha256(secret, b"pforte", b"credential-hash")
    assert len(key) == 32


def test_derive_key_differs_per_purpose_and_per_secret() -> None:
    secret = b"server secret of some length...."
    keys = {
        derive_key(secret, "credential-hash"),
        derive_key(secret, "signing-key-encryption"),
        derive_key(secret, ""),
        derive_key(b"another server secret..........", "credential-hash"),
    }
    assert len(keys) == 4
    assert derive_key(secret, "credential-hash") == derive_key(secret, "credential-hash")
