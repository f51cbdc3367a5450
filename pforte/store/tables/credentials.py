"""Client secrets and API keys: only a keyed hash of the value is stored."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pforte.store.base import Base, TenantOwned


class ClientSecretRow(TenantOwned, Base):
    __tablename__ = "client_secrets"
    __table_args__ = (Index("ix_client_secrets_tenant_client", "tenant_id", "client_pk", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    description: Mapped[str | None] = mapped_column(String(500))
    value_hash: Mapped[str] = mapped_column(String(64))
    value_display: Mapped[str] = mapped_column(String(20))
    start_time: Mapped[datetime]
    expiration: Mapped[datetime]
    created_at: Mapped[datetime]
    # The creating actor as audit events name it (Actor.label()); NULL for rows older than 0007.
    created_by: Mapped[str | None] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None]
    # When its ``*.expiring`` event was written (``services.expiry_warnings``): once per credential.
    expiry_warned_at: Mapped[datetime | None]


class ApiKeyRow(TenantOwned, Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant_client", "tenant_id", "client_pk", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # Look-ups key on the hash, never on the value.
    value_hash: Mapped[str] = mapped_column(String(64), unique=True)
    value_display: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    expiration: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # The creating actor as audit events name it (Actor.label()); NULL for rows older than 0007.
    created_by: Mapped[str | None] = mapped_column(String(200))
    last_used_at: Mapped[datetime | None]
    # When its ``*.expiring`` event was written (``services.expiry_warnings``): once per credential.
    expiry_warned_at: Mapped[datetime | None]
