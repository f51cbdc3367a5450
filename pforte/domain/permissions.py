"""The built-in permissions: scopes that open the platform's own APIs of a tenant.

They are Bare.ID's "Berechtigungen" checkboxes. ``tenants:admin`` exists only in the
``system`` tenant and implies every other permission in every tenant.
"""

from __future__ import annotations

from dataclasses import dataclass

from pforte.domain.ids import SYSTEM_TENANT

TENANTS_ADMIN = "tenants:admin"


@dataclass(frozen=True, slots=True)
class Permission:
    name: str
    api: str
    description_en: str
    description_de: str
    system_only: bool = False
    # The checkbox's label (Bare.ID's "Event-API lesen"); the description goes beneath it.
    title_en: str = ""
    title_de: str = ""


CATALOGUE: tuple[Permission, ...] = (
    Permission(
        "events:read",
        "Event and Metric API",
        "Read access to the Metric and Event API.",
        "Lesezugriff auf die Metric und Event API.",
        title_en="Read Event API",
        title_de="Event-API lesen",
    ),
    Permission(
        "users:read",
        "User API",
        "Read access to the /users API.",
        "Lesezugriff auf die /users API.",
        title_en="Read User API",
        title_de="User-API lesen",
    ),
    Permission(
        "users.roles:read",
        "User API",
        "Read access to the /roles endpoints of the /users API.",
        "Lesezugriff auf die /roles Endpunkte der /users API.",
        title_en="Read User Roles API",
        title_de="User-Roles-API lesen",
    ),
    Permission(
        "users:write",
        "User API",
        "Write access to the /users API.",
        "Schreibzugriff auf die /users API.",
        title_en="Write User API",
        title_de="User-API schreiben",
    ),
    Permission(
        "users:impersonate",
        "User API",
        "Access to user impersonation (token exchange).",
        "Zugriff auf die User Impersonation (Token Exchange).",
        title_en="User impersonation",
        title_de="User Impersonation",
    ),
    Permission(
        "clients.roles:read",
        "Client API",
        "Read access to the /clients/{*}/roles API.",
        "Lesezugriff auf die /clients/{*}/roles API.",
        title_en="Read Client API access",
        title_de="Client-API Zugriff lesen",
    ),
    Permission(
        "roles:write",
        "Role API",
        "Write access to the /roles API.",
        "Schreibzugriff auf die /roles API.",
        title_en="Write System API",
        title_de="System-API schreiben",
    ),
    Permission(
        "clients:read",
        "Client API",
        "Read clients, their secrets' metadata and API keys' metadata.",
        "Clients sowie die Metadaten ihrer Secrets und API-Keys lesen.",
        title_en="Read Client API",
        title_de="Client-API lesen",
    ),
    Permission(
        "clients:write",
        "Client API",
        "Create, change and delete clients, secrets and API keys.",
        "Clients, Secrets und API-Keys anlegen, ändern und löschen.",
        title_en="Write Client API",
        title_de="Client-API schreiben",
    ),
    Permission(
        TENANTS_ADMIN,
        "Tenant API",
        "Everything, in every tenant: create and delete tenants (system tenant only).",
        "Alles in jeder Instanz: Instanzen anlegen und löschen (nur Instanz 'system').",
        system_only=True,
        title_en="Manage tenants",
        title_de="Instanzen verwalten",
    ),
)

BY_NAME: dict[str, Permission] = {p.name: p for p in CATALOGUE}
NAMES: frozenset[str] = frozenset(BY_NAME)
# A scope in one of these namespaces is meant as a permission; a typo must not pass as a custom scope.
NAMESPACES: frozenset[str] = frozenset(name.split(":", 1)[0] for name in NAMES)


def is_permission(scope: str) -> bool:
    return scope in NAMES


def looks_like_permission(scope: str) -> bool:
    return ":" in scope and scope.split(":", 1)[0] in NAMESPACES


def grantable_in(tenant_slug: str) -> tuple[Permission, ...]:
    return tuple(p for p in CATALOGUE if not p.system_only or tenant_slug == SYSTEM_TENANT)


def holds(held: frozenset[str], wanted: str) -> bool:
    """Whether a principal holding ``held`` (in its own tenant) may use ``wanted``."""
    return wanted in held or TENANTS_ADMIN in held
