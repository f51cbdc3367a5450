"""Compact JWS signing for the token hot path, straight through ``cryptography``.

Only signing lives here: it is the one step where joserfc's per-call overhead showed in the
token endpoint's profile (docs/benchmarks.md). The header is serialised once per key; the
output is checked against joserfc in tests, and every verification goes through joserfc.
"""

from __future__ import annotations

from base64 import urlsafe_b64encode
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

_SHA256 = hashes.SHA256()
_ECDSA = ec.ECDSA(_SHA256)
_PKCS1 = padding.PKCS1v15()


def b64url(data: bytes) -> bytes:
    return urlsafe_b64encode(data).rstrip(b"=")


class CompactSigner:
    """Signs JSON claims as a compact JWS with a fixed protected header (ES256 or RS256)."""

    __slots__ = ("_ec", "_prefix", "_rsa", "alg")

    def __init__(self, private_pkcs8: bytes, header: dict[str, Any]) -> None:
        key = serialization.load_der_private_key(private_pkcs8, password=None)
        self.alg: str = header["alg"]
        self._ec: ec.EllipticCurvePrivateKey | None = None
        self._rsa: rsa.RSAPrivateKey | None = None
        if self.alg == "ES256" and isinstance(key, ec.EllipticCurvePrivateKey):
            if not isinstance(key.curve, ec.SECP256R1):
                raise ValueError("ES256 needs a P-256 key")
            self._ec = key
        elif self.alg == "RS256" and isinstance(key, rsa.RSAPrivateKey):
            self._rsa = key
        else:
            raise ValueError(f"the key does not fit the algorithm {self.alg!r}")
        self._prefix = b64url(orjson.dumps(header)) + b"."

    def sign(self, claims: dict[str, Any]) -> str:
        signing_input = self._prefix + b64url(orjson.dumps(claims))
        if self._ec is not None:
            r, s = decode_dss_signature(self._ec.sign(signing_input, _ECDSA))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # RFC 7518 §3.4
        else:
            assert self._rsa is not None
            signature = self._rsa.sign(signing_input, _PKCS1, _SHA256)
        return (signing_input + b"." + b64url(signature)).decode("ascii")
