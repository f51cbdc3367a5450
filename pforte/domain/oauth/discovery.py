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
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "grant_types_supported": list(grant_types),
        "token_endpoint_auth_methods_supported": methods,
        "introspection_endpoint": f"{issuer}/introspect",  # RFC 7662, RFC 8414 §2
        "introspection_endpoint_auth_methods_supported": methods,
        "revocation_endpoint": f"{issuer}/revoke",  # RFC 7009
        "revocation_endpoint_auth_methods_supported": methods,
        # RFC 8414 §2 requires the member; no authorization endpoint is offered yet.
        "response_types_supported": [],
        "scopes_supported": [p.name for p in grantable_in(tenant_slug)],
        "access_token_signing_alg_values_supported": [signing_alg],
    }
