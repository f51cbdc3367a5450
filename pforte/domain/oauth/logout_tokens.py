"""OpenID Connect Back-Channel Logout 1.0 §2.4: the Logout Token.

"iss, aud, iat, exp, jti, events REQUIRED; sub and/or sid; nonce PROHIBITED" — the events
member holds ``http://schemas.openid.net/event/backchannel-logout`` with an empty object, and
the JWT is typed ``logout+jwt`` (§2.4: "explicitly typed ... SHOULD").
"""

from __future__ import annotations

import secrets
from typing import Any

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TYP = "logout+jwt"
LIFETIME = 120  # seconds: "a short period of time, e.g. two minutes" is what receivers accept


def logout_token_claims(
    *, issuer: str, audience: str, subject: str, sid: str | None, now: int
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + LIFETIME,
        "jti": secrets.token_urlsafe(16),
        "sub": subject,
        "events": {EVENT: {}},
    }
    if sid is not None:
        claims["sid"] = sid
    return claims
