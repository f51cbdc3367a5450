"""The discovery document of a tenant (RFC 8414, OpenID Connect Discovery 1.0), generated from
the registries of what the token endpoint implements and served from the cache."""

from __future__ import annotations

from typing import Any

from pforte.domain.oauth.discovery import metadata
from pforte.services import client_authentication
from pforte.services.context import Context
from pforte.services.form_endpoints import find_tenant
from pforte.services.grants import GRANTS, UNADVERTISED


async def document(ctx: Context, slug: str) -> dict[str, Any]:
    """The tenant's metadata; ``not_found`` (an ``OAuthError``) when there is no such tenant."""
    tenant = await find_tenant(ctx, slug)
    return metadata(
        issuer=tenant.issuer,
        tenant_slug=tenant.slug,
        signing_alg=tenant.signing_alg,
        grant_types=[g for g in GRANTS if g not in UNADVERTISED],
        auth_methods=client_authentication.NAMES,
    )
