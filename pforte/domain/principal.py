"""Who is calling the admin API, and what they may reach."""

from __future__ import annotations

from dataclasses import dataclass

from pforte.domain import permissions
from pforte.domain.errors import Forbidden
from pforte.domain.events import Actor
from pforte.domain.ids import SYSTEM_TENANT


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_slug: str
    client_id: str
    permissions: frozenset[str]
    actor: Actor

    @property
    def is_operator(self) -> bool:
        """``tenants:admin`` from the ``system`` tenant: everything, every tenant."""
        return self.tenant_slug == SYSTEM_TENANT and permissions.TENANTS_ADMIN in self.permissions

    def require(self, permission: str, *, tenant_slug: str | None = None) -> None:
        """Refuse unless the principal holds ``permission`` in ``tenant_slug`` (its own if None)."""
        if tenant_slug is not None and tenant_slug != self.tenant_slug and not self.is_operator:
            raise Forbidden("this credential belongs to another tenant")
        if not self.is_operator and not permissions.holds(self.permissions, permission):
            raise Forbidden(f"the permission {permission} is required", scope=permission)

    def require_all(self, wanted: frozenset[str]) -> None:
        """No principal grants what it does not hold (DESIGN.md §3)."""
        if self.is_operator:
            return
        missing = sorted(p for p in wanted if permissions.is_permission(p) and p not in self.permissions)
        if missing:
            raise Forbidden(f"cannot grant permissions the caller lacks: {', '.join(missing)}")
