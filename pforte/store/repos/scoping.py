"""Tenant scoping at the store's one chokepoint (CONVENTIONS §2 rule 6; Hydra's ``QueryWithNetwork``).

Every select, update, delete and count of a tenant-owned row in ``store.repos`` starts from
one of these four, which write the ``tenant_id`` condition; a repository only narrows further:

    scoped_select(ClientRow, tenant_id).where(ClientRow.client_id == client_id)
    scoped_update(ApiKeyRow, tenant_id).where(ApiKeyRow.id == key_id).values(last_used_at=at)
    scoped_delete(ClientRow, tenant_id).where(ClientRow.client_id == client_id)
    scoped_count(ClientRow, tenant_id)

A class that is not ``TenantOwned`` is refused (mypy through the bound, ``TypeError`` at the
call). ``locking.hold`` takes the condition from the statement it is given, so a lock holds
what the scoped select names. ``tests/store/test_tenant_isolation.py`` lists every public
repository method and fails for one that has neither an isolation case nor a place below.

Not scoped here, on purpose — each names why where it is written:

- ``ApiKeyRepo.authenticate``: the look-up by the key's hash is how the caller's tenant
  becomes known, so there is no tenant to scope by yet.
- ``TenantRepo``: tenants are not tenant-owned; its methods address a tenant by its own id.
- ``TenantRepo.with_keys_older_than``: automatic key rotation looks at every tenant.
- ``ChangeRepo``: the change feed is not tenant-owned (a deleted tenant's change must still
  reach every process).
- ``RevokedTokenRepo.live`` and ``.prune``: every process holds the whole deny-list whatever
  tenant its requests are for, and expired entries go whatever their tenant
  (``RevokedTokenRepo.add`` is scoped).
- ``add`` methods take a row, which carries its own ``tenant_id``; they run no query.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import BindParameter, ColumnElement, Delete, Select, Update, delete, func, select, update

from pforte.store.base import TenantOwned

OwnedT = TypeVar("OwnedT", bound=TenantOwned)
# A bind parameter stands for the tenant in one statement run with many parameter sets.
TenantRef = uuid.UUID | BindParameter[Any]


def scoped_select(row: type[OwnedT], tenant_id: TenantRef) -> Select[OwnedT]:
    """``SELECT row … WHERE row.tenant_id = :tenant_id``."""
    owned = _owned_by(row, tenant_id)
    return select(row).where(owned)


def scoped_count(row: type[TenantOwned], tenant_id: TenantRef) -> Select[int]:
    """``SELECT count(*) FROM row WHERE row.tenant_id = :tenant_id``."""
    owned = _owned_by(row, tenant_id)
    return select(func.count()).select_from(row).where(owned)


def scoped_update(row: type[TenantOwned], tenant_id: TenantRef) -> Update:
    """``UPDATE row … WHERE row.tenant_id = :tenant_id``."""
    owned = _owned_by(row, tenant_id)
    return update(row).where(owned)


def scoped_delete(row: type[TenantOwned], tenant_id: TenantRef) -> Delete:
    """``DELETE FROM row WHERE row.tenant_id = :tenant_id``."""
    owned = _owned_by(row, tenant_id)
    return delete(row).where(owned)


def _owned_by(row: type[TenantOwned], tenant_id: TenantRef) -> ColumnElement[bool]:
    """The one ``tenant_id`` condition; checked before any statement is built on ``row``."""
    if not (isinstance(row, type) and issubclass(row, TenantOwned)):
        raise TypeError(f"{row!r} is not TenantOwned: it cannot be scoped to a tenant")
    return row.tenant_id == tenant_id
