"""RFC 9068 JWT access token claims (header ``typ: at+jwt``)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from base64 import urlsafe_b64encode
from typing import Any

AT_JWT = "at+jwt"


def client_binding(client_pk: uuid.UUID) -> str:
    """A short tag of one client *record* (not its ``clientId``), carried in each token's ``jti``:
    a client deleted and re-created under the same ``clientId`` — even within the same second,
    which ``iat`` cannot tell apart — does not inherit the old record's tokens."""
    return urlsafe_b64encode(hashlib.sha256(client_pk.bytes).digest()[:6]).decode("ascii")


def is_bound_to(jti: str, binding: str) -> bool:
    return jti.startswith(binding) and jti[len(binding) : len(binding) + 1] == "."


def client_credentials_claims(
    *, issuer: str, audience: str, client_id: str, binding: str, scopes: list[str], now: int, lifetime: int
) -> dict[str, Any]:
    """For a client acting for itself, ``sub`` is its client id (RFC 9068 §2.2)."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": client_id,
        "aud": audience,
        "client_id": client_id,
        "iat": now,
        "exp": now + lifetime,
        "jti": f"{binding}.{secrets.token_urlsafe(16)}",
    }
    if scopes:
        claims["scope"] = " ".join(scopes)
    return claims
