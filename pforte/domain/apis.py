"""The platform's APIs (DESIGN.md §7): each versioned, with its own OpenAPI document, and opened
by permissions of the catalogue (``domain.permissions``).

``name`` is what the API console's selector shows and ``?urls.primaryName=`` selects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

CONSOLE_PATH: Final = "/api/docs"


@dataclass(frozen=True, slots=True)
class Api:
    name: str
    prefix: str
    title: str
    # The permissions that open some of its routes: a client holding one gets its console link.
    permissions: frozenset[str]

    @property
    def openapi_url(self) -> str:
        return f"{self.prefix}/openapi.json"


ADMIN: Final = Api(
    "admin/v1",
    "/api/admin/v1",
    "Admin API",
    frozenset(
        {
            "tenants:admin",
            "clients:read",
            "clients:write",
            "clients.roles:read",
            "roles:write",
            "users.roles:read",
        }
    ),
)
USERS: Final = Api(
    "user/v1", "/api/users/v1", "User API", frozenset({"users:read", "users:write", "users.roles:read"})
)
EVENTS: Final = Api("event/v1", "/api/events/v1", "Event API", frozenset({"events:read"}))
METRICS: Final = Api("metric/v1", "/api/metrics/v1", "Metric API", frozenset({"events:read"}))

APIS: Final = (ADMIN, USERS, EVENTS, METRICS)
BY_NAME: Final = {api.name: api for api in APIS}


def opened_by(permissions: list[str] | tuple[str, ...]) -> list[Api]:
    """The APIs that ``permissions`` open, in the selector's order."""
    held = set(permissions)
    return [api for api in APIS if api.permissions & held]


def console_link(
    public_url: str, api: Api, *, client_id: str | None = None, token_url: str | None = None
) -> str:
    """The API console with ``api`` selected; with a client, its client-credentials sign-in
    pre-filled (the secret is typed in the page, never part of a link)."""
    link = f"{public_url}{CONSOLE_PATH}?urls.primaryName={api.name}"
    if client_id is not None and token_url is not None:
        link += "#" + urlencode({"clientId": client_id, "tokenUrl": token_url})
    return link
