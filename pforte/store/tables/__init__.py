"""ORM tables; importing this package registers every table on ``Base.metadata``."""

from pforte.store.tables.audit import AuditEventRow
from pforte.store.tables.changes import ChangeRow, RevokedTokenRow
from pforte.store.tables.clients import ClientRow
from pforte.store.tables.credentials import ApiKeyRow, ClientSecretRow
from pforte.store.tables.tenants import SigningKeyRow, TenantRow

__all__ = [
    "ApiKeyRow",
    "AuditEventRow",
    "ChangeRow",
    "ClientRow",
    "ClientSecretRow",
    "RevokedTokenRow",
    "SigningKeyRow",
    "TenantRow",
]
