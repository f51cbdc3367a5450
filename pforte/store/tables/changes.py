"""What other server processes must learn: the change feed and the revoked-token deny-list."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from pforte.store.base import Base, TenantOwned


class ChangeRow(Base):
    """One committed change that makes cached state stale.

    Written in the transaction of the change. On PostgreSQL a trigger turns each insert into a
    ``NOTIFY pforte_changes`` (delivered at commit); on SQLite the other processes of the host
    read new rows by ``seq``, which grows in commit order because SQLite has one writer. Not
    tenant-owned on purpose: a deleted tenant's change must still reach every process.
    """

    __tablename__ = "change_log"
    # AUTOINCREMENT: a seq is never reused, even after old rows are pruned.
    __table_args__ = ({"sqlite_autoincrement": True},)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    subject: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(index=True)


class RevokedTokenRow(TenantOwned, Base):
    """A revoked JWT access token (RFC 7009), refused by every process until ``expires_at``."""

    __tablename__ = "revoked_tokens"
    __table_args__ = (Index("ix_revoked_tokens_expires_at", "expires_at"),)

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime]
