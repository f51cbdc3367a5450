"""RFC 6749 §3.3 scope syntax.

scope       = scope-token *( SP scope-token )
scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
"""

from __future__ import annotations

import re

SCOPE_TOKEN_RE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
OIDC_SCOPES: frozenset[str] = frozenset({"openid", "profile", "email", "address", "phone", "offline_access"})


def is_scope_token(value: str) -> bool:
    return SCOPE_TOKEN_RE.fullmatch(value) is not None


def parse_scope(value: str) -> list[str]:
    """Split a space-delimited scope string; an empty string is no scope."""
    return [token for token in value.split(" ") if token]
