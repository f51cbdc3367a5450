"""RFC 9068 access token claims for a user (``user_claims``) beside the client's own
(``client_credentials_claims``): the same jti format and binding, ``sub`` = the user."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from pforte.domain.oauth.access_tokens import (
    client_binding,
    client_credentials_claims,
    is_bound_to,
    user_claims,
)

ISSUER = "https://id.example.com/t/acme"
AUDIENCE = "https://id.example.com/api"
NOW = 1_760_000_000
BINDING = client_binding(uuid.UUID("0191d3a2-7c4e-7a51-9c1e-3f0b8e2d4a11"))
USER = "0191d3a2-0000-7000-8000-000000000001"
JTI_RE = re.compile(r"[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{22}")


def claims(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "client_id": "web-app",
        "binding": BINDING,
        "user_id": USER,
        "scopes": ["openid", "users:read"],
        "roles": ["admin", "staff"],
        "client_roles": ["editor"],
        "now": NOW,
        "lifetime": 300,
        "auth_time": NOW - 60,
        "sid": "session-1",
    }
    arguments.update(overrides)
    return user_claims(**arguments)


def test_every_claim() -> None:
    result = claims()
    jti = result.pop("jti")
    assert result == {
        "iss": ISSUER,
        "sub": USER,
        "aud": AUDIENCE,
        "client_id": "web-app",
        "iat": NOW,
        "exp": NOW + 300,
        "scope": "openid users:read",
        "roles": ["admin", "staff"],
        "client_roles": ["editor"],
        "auth_time": NOW - 60,
        "sid": "session-1",
    }
    assert JTI_RE.fullmatch(jti) and is_bound_to(jti, BINDING)


def test_the_fewest_claims() -> None:
    """No scope, no roles, no auth_time, no sid: roles and client_roles are still there, empty."""
    result = claims(scopes=[], roles=[], client_roles=[], auth_time=None, sid=None)
    del result["jti"]
    assert result == {
        "iss": ISSUER,
        "sub": USER,
        "aud": AUDIENCE,
        "client_id": "web-app",
        "iat": NOW,
        "exp": NOW + 300,
        "roles": [],
        "client_roles": [],
    }


def test_sub_is_the_user_not_the_client() -> None:
    assert claims()["sub"] == USER
    assert claims()["client_id"] == "web-app"


def test_roles_are_fresh_lists_in_order() -> None:
    roles = ("staff", "admin")
    result = claims(roles=roles, client_roles=(), scopes=("b", "a"))
    assert result["roles"] == ["staff", "admin"] and isinstance(result["roles"], list)
    assert result["client_roles"] == []
    assert result["scope"] == "b a"


def test_auth_time_zero_is_kept() -> None:
    assert claims(auth_time=0)["auth_time"] == 0


def test_every_jti_is_new_and_bound_to_the_client_record() -> None:
    jtis = {claims()["jti"] for _ in range(100)}
    assert len(jtis) == 100
    other = client_binding(uuid.UUID("0191d3a2-7c4e-7a51-9c1e-3f0b8e2d4a12"))
    assert all(is_bound_to(jti, BINDING) and not is_bound_to(jti, other) for jti in jtis)


def test_client_credentials_claims_unchanged() -> None:
    result = client_credentials_claims(
        issuer=ISSUER,
        audience=AUDIENCE,
        client_id="svc",
        binding=BINDING,
        scopes=["users:read"],
        now=NOW,
        lifetime=60,
    )
    jti = result.pop("jti")
    assert result == {
        "iss": ISSUER,
        "sub": "svc",
        "aud": AUDIENCE,
        "client_id": "svc",
        "iat": NOW,
        "exp": NOW + 60,
        "scope": "users:read",
    }
    assert JTI_RE.fullmatch(jti) and is_bound_to(jti, BINDING)


@pytest.mark.parametrize("jti", [BINDING, BINDING + "x", "x" + BINDING + ".abc", BINDING[:-1] + ".abc", ""])
def test_is_bound_to_needs_the_binding_and_the_dot(jti: str) -> None:
    assert is_bound_to(jti, BINDING) is False
