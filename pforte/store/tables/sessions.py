"""Sign-in sessions of users at a tenant, and the authorization codes issued in them.

Neither stores a value a caller presents: a session cookie and a code are looked up by their
keyed hash (CONVENTIONS §2 rule 9).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pforte.store.base import Base, TenantOwned


class SessionRow(TenantOwned, Base):
    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_tenant_user", "tenant_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sid: Mapped[str] = mapped_column(String(64))  # the ID token's ``sid`` (OIDC Front/Back-Channel Logout)
    auth_time: Mapped[datetime]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuthorizationCodeRow(TenantOwned, Base):
    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    nonce: Mapped[str | None] = mapped_column(String(512))
    code_challenge: Mapped[str | None] = mapped_column(String(43))
    sid: Mapped[str | None] = mapped_column(String(64))
    auth_time: Mapped[datetime]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # Set at the first exchange; a second one finds it set, is refused, and revokes what the
    # first issued (RFC 6749 §4.1.2: "SHOULD revoke (when possible) all tokens previously issued").
    used_at: Mapped[datetime | None]
    issued_jti: Mapped[str | None] = mapped_column(String(64))
    issued_jti_expires_at: Mapped[datetime | None]
    issued_family_id: Mapped[uuid.UUID | None]  # the refresh tokens the first exchange started


class ConsentRow(TenantOwned, Base):
    """What a user allowed a client and asked to be remembered (``allowRememberConsent``)."""

    __tablename__ = "consents"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RefreshTokenRow(TenantOwned, Base):
    """A refresh token (``pfr_``, DESIGN.md §4 and §6): stored as its keyed hash, rotated on every
    use. The rows of one family descend from one code exchange; reuse of a rotated one revokes
    the whole family (RFC 9700 §4.14.2)."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_tenant_family", "tenant_id", "family_id"),
        Index("ix_refresh_tokens_tenant_user", "tenant_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[uuid.UUID]
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    sid: Mapped[str | None] = mapped_column(String(64))
    auth_time: Mapped[datetime]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]  # rotated: its successor was issued
    revoked_at: Mapped[datetime | None]  # its family was revoked (reuse, revocation, the user disabled)


class SessionClientRow(TenantOwned, Base):
    """A client that received a code in a session: the clients a logout is told about
    (OIDC Back-Channel Logout 1.0 §2.7)."""

    __tablename__ = "session_clients"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    client_pk: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
