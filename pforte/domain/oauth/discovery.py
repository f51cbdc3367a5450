"""RFC 8414 / OpenID Connect Discovery metadata, built from what the server implements.

Nothing is advertised that is not implemented: as endpoints and grants land, they join here.
"""

from __future__ import annotations

from typing import Any

from pforte.domain.clients import CLIENT_CREDENTIALS
from pforte.domain.permissions import grantable_in

TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def metadata(*, issuer: str, tenant_slug: str, signing_alg: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "grant_types_supported": [CLIENT_CREDENTIALS],
        "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "introspection_endpoint": f"{issuer}/introspect",  # RFC 7662, RFC 8414 §2
        "introspection_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "revocation_endpoint": f"{issuer}/revoke",  # RFC 7009
        "revocation_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        # RFC 8414 §2 requires the member; no authorization endpoint is offered yet.
        "response_types_supported": [],
        "scopes_supported": [p.name for p in grantable_in(tenant_slug)],
        "access_token_signing_alg_values_supported": [signing_alg],
    }
