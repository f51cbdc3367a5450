"""The admin API (``/api/admin/v1``): tenants, clients, credentials, roles (DESIGN.md §5, §7).

Its errors are RFC 9457 problem+json; the protocol endpoints (RFC 6749 errors) live elsewhere.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from pforte.domain.apis import ADMIN
from pforte.services.context import Context
from pforte.web.admin import api_keys, clients, guide, keys, roles, secrets, tenants
from pforte.web.admin.openapi import VERSIONED
from pforte.web.apis import create_api_app

PREFIX = ADMIN.prefix

DESCRIPTION = """
Manage tenants (and their signing keys), API clients and their credentials, roles and client roles.

Authenticate with **Authorize**: an API key (`pfk_…`) or an access token as `Authorization: Bearer …`,
or the client credentials sign-in with a client of your tenant.
Errors are [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) `application/problem+json`.
Lists page with `?limit=&cursor=`; the response's `next` is the cursor of the next page.
"""


def create_admin_app(ctx: Context) -> ASGIApp:
    routers = [m.router for m in (tenants, keys, clients, secrets, api_keys, guide, roles)]
    return create_api_app(ctx, ADMIN, description=DESCRIPTION, routers=routers, versioned=VERSIONED)
