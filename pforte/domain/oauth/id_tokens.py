"""OpenID Connect Core 1.0 §2 ID Token claims and §3.1.3.6 ``at_hash``.

The ID Token of the authorization code flow is signed with the tenant's key like an access token
(``security/jws.py``), with ``typ: JWT`` rather than ``at+jwt``. Its registered claims — ``iss``,
``sub``, ``aud`` (the client id), ``exp``, ``iat``, ``auth_time`` and, when there is one,
``nonce``, ``at_hash`` and ``sid`` — are set here from the arguments; the End-User's claims
(``extra``: profile, email) are added beside them and can never replace one, so a user attribute
named ``sub`` or ``nonce`` cannot forge the token's subject or replay protection.
"""

from __future__ import annotations

import hashlib
from base64 import urlsafe_b64encode
from collections.abc import Mapping
from typing import Any

# JWS algorithms whose hash is SHA-256 (RFC 7518 §3.1): the two a tenant's keys sign with.
SHA256_ALGS = frozenset({"ES256", "RS256"})
# Claims the protocol defines (RFC 7519 §4.1, OIDC Core §2, §3.1.3.6, §3.3.2.11, Front-/Back-Channel
# Logout): never taken from ``extra``, whether this token carries them or not.
PROTOCOL_CLAIMS = frozenset(
    {
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "azp",
        "at_hash",
        "c_hash",
        "s_hash",
        "sid",
        "events",
    }
)


def at_hash(access_token: str, alg: str) -> str:
    """The ``at_hash`` of ``access_token`` for an ID Token signed with ``alg``."""
    # "Its value is the base64url encoding of the left-most half of the hash of the octets of the
    # ASCII representation of the access_token value, where the hash algorithm used is the hash
    # algorithm used in the alg Header Parameter of the ID Token's JOSE Header." (§3.1.3.6)
    if alg not in SHA256_ALGS:
        raise ValueError(f"no at_hash for the algorithm {alg!r}")
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def id_token_claims(
    *,
    issuer: str,
    subject: str,
    audience: str,
    now: int,
    lifetime: int,
    auth_time: int,
    nonce: str | None,
    access_token: str | None,
    alg: str,
    sid: str | None,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """The claims of an ID Token for ``subject`` issued to the client ``audience`` at ``now``."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "exp": now + lifetime,
        "iat": now,
        "auth_time": auth_time,
    }
    # "If present in the Authentication Request, Authorization Servers MUST include a nonce Claim
    # in the ID Token with the Claim Value being the nonce value sent in the Authentication
    # Request." (§2)
    if nonce is not None:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["at_hash"] = at_hash(access_token, alg)
    if sid is not None:
        claims["sid"] = sid
    for name, value in extra.items():
        if name not in PROTOCOL_CLAIMS and value is not None:
            claims[name] = value
    return claims
