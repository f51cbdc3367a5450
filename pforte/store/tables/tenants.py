"""Tenants and their signing keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pforte.store.base import Base, TenantOwned


class TenantRow(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    signing_alg: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Raised by every change; the ETag of the tenant (If-Match detects lost updates).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class SigningKeyRow(TenantOwned, Base):
    __tablename__ = "signing_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "kid"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(100))
    alg: Mapped[str] = mapped_column(String(10))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    active_from: Mapped[datetime]
    retired_at: Mapped[datetime | None]
