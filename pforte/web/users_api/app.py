"""The User API (``/api/users/v1``, DESIGN.md §7)."""

from __future__ import annotations

from starlette.types import ASGIApp

from pforte.domain.apis import USERS
from pforte.services.context import Context
from pforte.web.apis import create_api_app
from pforte.web.users_api import users

DESCRIPTION = """
The users of a tenant and the roles they hold: `users:read`, `users:write`, `users.roles:read`.

Authenticate with **Authorize**: an API key (`pfk_…`) or an access token as `Authorization: Bearer …`,
or the client credentials sign-in with a client of your tenant.
Lists page with `?limit=&cursor=` (keyset: a late page costs what the first does); filters narrow,
and `?search=` matches the start of the username, e-mail, given or family name in any case.
Passwords go in and never come out. Errors are RFC 9457 `application/problem+json`.
"""

VERSIONED = frozenset({"/tenants/{tenant}/users/{userId}"})


def create_users_app(ctx: Context) -> ASGIApp:
    return create_api_app(ctx, USERS, description=DESCRIPTION, routers=[users.router], versioned=VERSIONED)
