"""Audit events, written in the same transaction as the change they record (or, for the
token endpoint's own events, in batches: ``services.event_buffer``), and the daily counts of
the Metric API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pforte.store.base import Base, TenantOwned


def _tenant_key() -> Mapped[uuid.UUID]:
    """``TenantOwned``'s column, made the first part of the primary key."""
    return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)


class AuditEventRow(TenantOwned, Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_tenant_id_id", "tenant_id", "id"),
        Index("ix_audit_events_tenant_id_name_id", "tenant_id", "name", "id"),
        # Partial: most events name no user (a client's token), some no client; those rows cost
        # no index entry (``user_id = :x`` implies the condition on both databases).
        Index(
            "ix_audit_events_tenant_id_client_id_id",
            "tenant_id",
            "client_id",
            "id",
            sqlite_where=text("client_id IS NOT NULL"),
            postgresql_where=text("client_id IS NOT NULL"),
        ),
        Index(
            "ix_audit_events_tenant_id_user_id_id",
            "tenant_id",
            "user_id",
            "id",
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
    )

    # A UUIDv7 of ``created_at`` (``ids.id_at``): ordering by id is ordering by time, and a time
    # range is an id range on ``(tenant_id, id)``.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    actor_tenant: Mapped[str] = mapped_column(String(63))
    actor_client_id: Mapped[str | None] = mapped_column(String(128))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # What the Event API filters on (``Event.subjects``); NULL for events that name neither.
    client_id: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[uuid.UUID | None]


class DailyCountRow(TenantOwned, Base):
    """One client's counts of one UTC day, added to in batches (``value = value + n``)."""

    __tablename__ = "daily_counts"

    tenant_id: Mapped[uuid.UUID] = _tenant_key()
    day: Mapped[date] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)  # "" for no client
    tokens_issued: Mapped[int] = mapped_column(BigInteger, default=0)
    failed_client_authentications: Mapped[int] = mapped_column(BigInteger, default=0)
    sign_ins: Mapped[int] = mapped_column(BigInteger, default=0)
    sign_in_failures: Mapped[int] = mapped_column(BigInteger, default=0)


class DailyActiveUserRow(TenantOwned, Base):
    """A user who signed in at, or got a token of, a client on a UTC day (counted when read)."""

    __tablename__ = "daily_active_users"

    tenant_id: Mapped[uuid.UUID] = _tenant_key()
    day: Mapped[date] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
