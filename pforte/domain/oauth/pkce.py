"""RFC 7636 Proof Key for Code Exchange: S256 only, compared in constant time.

At the authorization endpoint (§4.3, §4.4.1) ``check_challenge`` accepts a ``code_challenge``
with ``code_challenge_method=S256`` and nothing else. ``plain`` is refused (RFC 9700 §2.1.1: it
protects nothing once the request is seen), and so is a challenge without a method, which §4.3
defines as ``plain``. An S256 challenge is BASE64URL(SHA256(verifier)) without padding: exactly
43 characters, the last one carrying four zero bits (32 bytes = 256 bits in 43 × 6 = 258).

At the token endpoint (§4.6) ``verify`` recomputes the challenge from ``code_verifier`` and
compares it with ``hmac.compare_digest``; ``check_verifier`` turns that into the token endpoint's
errors, including RFC 9700's downgrade rule (a verifier for a code issued without a challenge).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from base64 import urlsafe_b64encode

from pforte.domain.oauth.errors import InvalidGrant, InvalidRequest

S256 = "S256"
PLAIN = "plain"
# code-verifier = 43*128unreserved; unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" (§4.1)
_VERIFIER_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
# 42 base64url characters and a last one whose low two bits are zero: 32 bytes, canonically encoded.
_S256_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")


def s256(verifier: str) -> str:
    """BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) (§4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_challenge(challenge: str | None, method: str | None, *, required: bool) -> str | None:
    """The authorization request's ``code_challenge`` if it is a valid S256 challenge, None if
    there is none and none is required; ``InvalidRequest`` otherwise."""
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method was sent without code_challenge")
        # "If the server requires Proof Key for Code Exchange (PKCE) by OAuth public clients and
        # the client does not send the "code_challenge" in the request, the authorization
        # endpoint MUST return the authorization error response with the "error" value set to
        # "invalid_request"." (§4.4.1)
        if required:
            raise InvalidRequest("code_challenge required")
        return None
    if method is None:
        raise InvalidRequest(
            "code_challenge_method is missing, which means plain; plain is not supported, use S256"
        )
    if method == PLAIN:
        raise InvalidRequest("code_challenge_method plain is not supported; use S256")
    if method != S256:
        raise InvalidRequest("transform algorithm not supported; code_challenge_method must be S256")
    if _S256_CHALLENGE_RE.fullmatch(challenge) is None:
        raise InvalidRequest(
            "code_challenge must be 43 base64url characters: BASE64URL(SHA256(code_verifier))"
        )
    return challenge


def verify(verifier: str, challenge: str) -> bool:
    """Whether ``verifier`` is a well-formed code_verifier whose S256 transform is ``challenge``."""
    if _VERIFIER_RE.fullmatch(verifier) is None:
        return False
    return hmac.compare_digest(s256(verifier).encode("ascii"), challenge.encode("utf-8"))


def check_verifier(verifier: str | None, challenge: str | None) -> None:
    """The token request's ``code_verifier`` against the challenge its code was issued with
    (None: issued without PKCE). Raises the token endpoint's error, or returns."""
    if challenge is None:
        # "Authorization servers MUST mitigate PKCE downgrade attacks by ensuring that a token
        # request containing a code_verifier parameter is accepted only if a code_challenge
        # parameter was present in the authorization request" (RFC 9700 §2.1.1)
        if verifier is not None:
            raise InvalidGrant("code_verifier sent for a code issued without code_challenge")
        return
    if verifier is None:
        raise InvalidRequest("code_verifier required")
    # "If the values are not equal, an error response indicating "invalid_grant" ... MUST be
    # returned." (§4.6)
    if not verify(verifier, challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge")
