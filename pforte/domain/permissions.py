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


CATALOGUE: tuple[Permission, ...] = (
    Permission(
        "events:read",
        "Event and Metric API",
        "Read the tenant's audit events and metrics.",
        "Audit-Ereignisse und Metriken der Instanz lesen.",
    ),
    Permission(
        "users:read",
        "User API",
        "Read users and their attributes.",
        "Benutzer und ihre Attribute lesen.",
    ),
    Permission(
        "users.roles:read",
        "User API",
        "Read the roles assigned to users.",
        "Die Rollen der Benutzer lesen.",
    ),
    Permission(
        "users:write",
        "User API",
        "Create, change and delete users.",
        "Benutzer anlegen, ändern und löschen.",
    ),
    Permission(
        "users:impersonate",
        "User API",
        "Act on behalf of a user (token exchange).",
        "Im Namen eines Benutzers handeln (Token Exchange).",
    ),
    Permission(
        "clients.roles:read",
        "Client API",
        "Read the roles defined by clients.",
        "Die Rollen der Clients lesen.",
    ),
    Permission(
        "roles:write",
        "Role API",
        "Create, change and delete roles and role assignments.",
        "Rollen und Rollenzuweisungen anlegen, ändern und löschen.",
    ),
    Permission(
        "clients:read",
        "Client API",
        "Read clients, their secrets' metadata and API keys' metadata.",
        "Clients sowie die Metadaten ihrer Secrets und API-Keys lesen.",
    ),
    Permission(
        "clients:write",
        "Client API",
        "Create, change and delete clients, secrets and API keys.",
        "Clients, Secrets und API-Keys anlegen, ändern und löschen.",
    ),
    Permission(
        TENANTS_ADMIN,
        "Tenant API",
        "Everything, in every tenant: create and delete tenants (system tenant only).",
        "Alles in jeder Instanz: Instanzen anlegen und löschen (nur Instanz 'system').",
        system_only=True,
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
