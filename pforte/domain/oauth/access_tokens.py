"""RFC 9068 JWT access token claims (header ``typ: at+jwt``).

A client acting for itself gets ``sub`` = its client id (§2.2); a token issued for a user (the
authorization code grant and the grants that follow it) gets ``sub`` = the user's id, and names
the user's tenant roles and the requesting client's roles the user holds (§2.2.3.1, DESIGN §6);
one a client obtained by impersonating the user (RFC 8693) names the client in ``act`` as well.
Every ``jti`` is ``{binding}.{random}``: the client record's tag, then 128 random bits.
"""

from __future__ import annotations

import hashlib
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Sequence
from typing import Any

from pforte.security.randomness import token_urlsafe

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
        "jti": _jti(binding),
    }
    if scopes:
        claims["scope"] = " ".join(scopes)
    return claims


def user_claims(
    *,
    issuer: str,
    audience: str,
    client_id: str,
    binding: str,
    user_id: str,
    scopes: Sequence[str],
    roles: Sequence[str],
    client_roles: Sequence[str],
    now: int,
    lifetime: int,
    auth_time: int | None,
    sid: str | None,
    act: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """For a client acting for a user: "In cases of access tokens obtained through grants where a
    resource owner is involved, such as the authorization code grant, the value of "sub" SHOULD
    correspond to the subject identifier of the resource owner." (RFC 9068 §2.2)

    ``act`` names the client when it impersonates the user (RFC 8693 §4.1, token exchange)."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": user_id,
        "aud": audience,
        "client_id": client_id,
        "iat": now,
        "exp": now + lifetime,
        "jti": _jti(binding),
    }
    if scopes:
        claims["scope"] = " ".join(scopes)
    # Always present, possibly empty: a resource server reads the user's roles from the token.
    claims["roles"] = list(roles)
    claims["client_roles"] = list(client_roles)
    if auth_time is not None:
        claims["auth_time"] = auth_time
    if sid is not None:
        claims["sid"] = sid
    if act is not None:
        claims["act"] = act
    return claims


def _jti(binding: str) -> str:
    return f"{binding}.{token_urlsafe(16)}"
