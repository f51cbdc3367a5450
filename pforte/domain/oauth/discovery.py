"""RFC 8414 / OpenID Connect Discovery metadata, built from what the server implements.

Nothing is advertised that is not implemented: as endpoints and grants land, they join here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pforte.domain.permissions import grantable_in


def metadata(
    *,
    issuer: str,
    tenant_slug: str,
    signing_alg: str,
    grant_types: Sequence[str],
    auth_methods: Sequence[str],
) -> dict[str, Any]:
    """The document of one tenant; ``grant_types`` and ``auth_methods`` are the registries of
    what the token endpoint implements (``services.grants``, ``services.client_authentication``)."""
    methods = list(auth_methods)
    confidential = [m for m in methods if m != "none"]  # introspection takes no public client
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",  # OIDC Core §5.3
        "end_session_endpoint": f"{issuer}/logout",  # RP-Initiated Logout 1.0
        "backchannel_logout_supported": True,  # Back-Channel Logout 1.0 §2.1
        "backchannel_logout_session_supported": True,
        "jwks_uri": f"{issuer}/jwks",
        "grant_types_supported": list(grant_types),
        "token_endpoint_auth_methods_supported": methods,
        "introspection_endpoint": f"{issuer}/introspect",  # RFC 7662, RFC 8414 §2
        "introspection_endpoint_auth_methods_supported": confidential,
        "revocation_endpoint": f"{issuer}/revoke",  # RFC 7009
        "revocation_endpoint_auth_methods_supported": methods,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],  # RFC 7636; plain is refused
        "authorization_response_iss_parameter_supported": True,  # RFC 9207
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [signing_alg],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "ui_locales_supported": ["en", "de"],
        "scopes_supported": ["openid", "profile", "email"] + [p.name for p in grantable_in(tenant_slug)],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "sid",
            "at_hash",
            "preferred_username",
            "name",
            "given_name",
            "family_name",
            "updated_at",
            "email",
            "email_verified",
        ],
        "access_token_signing_alg_values_supported": [signing_alg],
    }
