"""Signing keys: generation, the public JWK, and encryption of the private key at rest.

The private key is PKCS#8 DER sealed with AES-256-GCM under a key derived from the server
secret; the associated data binds the ciphertext to its tenant and ``kid``, so a row copied
to another tenant does not decrypt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc.jwk import ECKey, RSAKey

ALGORITHMS = ("ES256", "RS256")


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    kid: str
    alg: str
    public_jwk: dict[str, Any]
    private_pkcs8: bytes


def generate(alg: str) -> GeneratedKey:
    if alg == "ES256":
        private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = ec.generate_private_key(ec.SECP256R1())
    elif alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key = (ECKey if alg == "ES256" else RSAKey).import_key(der)
    kid = key.thumbprint()  # RFC 7638
    public = {**key.as_dict(private=False), "kid": kid, "alg": alg, "use": "sig"}
    return GeneratedKey(kid=kid, alg=alg, public_jwk=public, private_pkcs8=der)


def seal_context(tenant_id: object, kid: str) -> str:
    """The associated data that binds a sealed private key to its tenant and ``kid``."""
    return f"pforte-signing-key:{tenant_id}:{kid}"


class KeySealer:
    """AES-256-GCM sealing of private keys (nonce ‖ ciphertext)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, *, context: str) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], context.encode())
