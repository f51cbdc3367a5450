"""ORM tables; importing this package registers every table on ``Base.metadata``."""

from pforte.store.tables.audit import AuditEventRow, DailyActiveUserRow, DailyCountRow
from pforte.store.tables.changes import ChangeRow, RevokedTokenRow
from pforte.store.tables.clients import ClientRow
from pforte.store.tables.credentials import ApiKeyRow, ClientSecretRow
from pforte.store.tables.sessions import (
    AuthorizationCodeRow,
    ConsentRow,
    RefreshTokenRow,
    SessionClientRow,
    SessionRow,
)
from pforte.store.tables.tenants import SigningKeyRow, TenantRow
from pforte.store.tables.users import ClientRoleRow, RoleRow, UserClientRoleRow, UserRoleRow, UserRow

__all__ = [
    "ApiKeyRow",
    "AuditEventRow",
    "AuthorizationCodeRow",
    "ChangeRow",
    "ClientRoleRow",
    "ClientRow",
    "ClientSecretRow",
    "ConsentRow",
    "DailyActiveUserRow",
    "DailyCountRow",
    "RefreshTokenRow",
    "RevokedTokenRow",
    "RoleRow",
    "SessionClientRow",
    "SessionRow",
    "SigningKeyRow",
    "TenantRow",
    "UserClientRoleRow",
    "UserRoleRow",
    "UserRow",
]
