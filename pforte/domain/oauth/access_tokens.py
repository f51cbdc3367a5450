"""RFC 9068 JWT access token claims (header ``typ: at+jwt``)."""

from __future__ import annotations

import secrets
from typing import Any

AT_JWT = "at+jwt"


def client_credentials_claims(
    *, issuer: str, audience: str, client_id: str, scopes: list[str], now: int, lifetime: int
) -> dict[str, Any]:
    """For a client acting for itself, ``sub`` is its client id (RFC 9068 §2.2)."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": client_id,
        "aud": audience,
        "client_id": client_id,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),
    }
    if scopes:
        claims["scope"] = " ".join(scopes)
    return claims
