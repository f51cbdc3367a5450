"""Tenant roles and client roles (DESIGN.md §6).

A tenant role bundles permissions (§3) under a name; users hold roles, and a user's token
carries a permission only through a role. Every tenant has the built-in role ``admin``: it
holds every permission grantable in that tenant (``tenants:admin`` too in ``system``), now and
as the catalogue grows, and it can be neither deleted nor emptied. A client role belongs to
one client; tokens issued to that client name the client roles the user holds.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from pforte.domain import permissions
from pforte.domain.errors import Invalid
from pforte.domain.text import has_control

ADMIN_ROLE = "admin"
ROLE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
ROLE_NAME_PATTERN = f"^{ROLE_NAME_RE.pattern}$"
DESCRIPTION_MAX = 1000


def is_role_name(name: str) -> bool:
    return ROLE_NAME_RE.fullmatch(name) is not None


def check_role_name(name: str, *, field: str = "name") -> str:
    if not ROLE_NAME_RE.fullmatch(name):
        raise Invalid(
            field,
            "must be 1-100 characters (letters, digits, '.', '_', ':', '-'), starting with a letter or digit",
        )
    return name


def check_description(description: str | None, *, field: str = "description") -> str | None:
    if description is not None and (
        len(description) > DESCRIPTION_MAX or has_control(description.replace("\n", ""))
    ):
        raise Invalid(field, f"must be at most {DESCRIPTION_MAX} characters without control characters")
    return description


def check_permissions(wanted: list[str], *, tenant_slug: str, field: str = "permissions") -> list[str]:
    """Known permissions grantable in the tenant, each once, in catalogue order."""
    grantable = {p.name for p in permissions.grantable_in(tenant_slug)}
    unknown = sorted(set(wanted) - grantable)
    if unknown:
        raise Invalid(field, f"not a permission of this tenant: {', '.join(unknown)}")
    return [p.name for p in permissions.grantable_in(tenant_slug) if p.name in wanted]


def admin_permissions(tenant_slug: str) -> tuple[str, ...]:
    """What the built-in ``admin`` role holds: every permission grantable in the tenant."""
    return tuple(p.name for p in permissions.grantable_in(tenant_slug))


@dataclass(frozen=True, slots=True)
class Role:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    description: str | None
    permissions: tuple[str, ...]
    builtin: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ClientRole:
    id: uuid.UUID
    tenant_id: uuid.UUID
    client_id: str
    name: str
    description: str | None
    created_at: datetime
