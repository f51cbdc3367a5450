"""Keyed hashes of credentials and the keys derived from the server secret.

Client secrets and API keys are high-entropy random values, so a keyed HMAC-SHA256 with a
server pepper is the right hash for them (STACK.md §2f: ~4 µs instead of argon2's ~156 ms);
argon2 is for human passwords only. Comparison is constant-time.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(server_secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose, from the server secret (HKDF-SHA256, RFC 5869)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"pforte", info=purpose.encode()).derive(
        server_secret
    )


class CredentialHasher:
    """HMAC-SHA256 with the server's pepper; values are only ever stored as this hash."""

    def __init__(self, pepper: bytes) -> None:
        # Keyed once; each hash starts from a copy. (The one-shot ``hmac.digest`` sets up the key
        # on every call and lets go of the GIL around its few hundred nanoseconds of work: under
        # load another thread then holds the event loop's thread up.)
        self._keyed = hmac.new(pepper, digestmod="sha256")

    def hash(self, value: str) -> str:
        keyed = self._keyed.copy()
        keyed.update(value.encode())
        return keyed.hexdigest()

    def verify(self, value: str, stored_hash: str) -> bool:
        return hmac.compare_digest(self.hash(value), stored_hash)

    @staticmethod
    def verify_hash(presented_hash: str, stored_hash: str) -> bool:
        """Compare a hash computed once per request with a stored one, in constant time."""
        return hmac.compare_digest(presented_hash, stored_hash)
