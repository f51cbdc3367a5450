"""Users, tenant roles, client roles and who holds which."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, mapped_column

from pforte.domain.users import username_key
from pforte.store.base import Base, TenantOwned


class UserRow(TenantOwned, Base):
    __tablename__ = "users"
    # Unique without regard to case; the index also serves keyset pages and prefix search.
    __table_args__ = (
        UniqueConstraint("tenant_id", "username_key"),
        # The User API's prefix search and filters (migration 0008): each a range of an index.
        Index("ix_users_tenant_id_email_key", "tenant_id", "email_key"),
        Index("ix_users_tenant_id_given_name_key", "tenant_id", "given_name_key"),
        Index("ix_users_tenant_id_family_name_key", "tenant_id", "family_name_key"),
        Index("ix_users_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(255))
    username_key: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    email_verified: Mapped[bool]
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool]
    # Case-folded copies of the searchable fields, kept by ``_fold_keys`` on every write.
    email_key: Mapped[str | None] = mapped_column(String(320))
    given_name_key: Mapped[str | None] = mapped_column(String(200))
    family_name_key: Mapped[str | None] = mapped_column(String(200))
    # argon2id (PHC string); None: the user cannot sign in with a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Set by an administrator: the next sign-in asks for a new password before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


def _fold(value: str | None) -> str | None:
    return value.casefold() if value is not None else None


@event.listens_for(UserRow, "before_insert")
@event.listens_for(UserRow, "before_update")
def _fold_keys(_mapper: object, _connection: object, row: UserRow) -> None:
    """The search keys follow their fields, whoever writes the row through the ORM."""
    row.username_key = username_key(row.username)
    row.email_key = _fold(row.email)
    row.given_name_key = _fold(row.given_name)
    row.family_name_key = _fold(row.family_name)


class RoleRow(TenantOwned, Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    permissions: Mapped[list[str]] = mapped_column(JSON)
    builtin: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ClientRoleRow(TenantOwned, Base):
    __tablename__ = "client_roles"
    __table_args__ = (UniqueConstraint("tenant_id", "client_pk", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class UserRoleRow(TenantOwned, Base):
    __tablename__ = "user_roles"
    __table_args__ = (Index("ix_user_roles_tenant_role", "tenant_id", "role_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)


class UserClientRoleRow(TenantOwned, Base):
    __tablename__ = "user_client_roles"
    __table_args__ = (Index("ix_user_client_roles_tenant_role", "tenant_id", "client_role_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    client_role_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("client_roles.id", ondelete="CASCADE"), primary_key=True
    )
