"""Clients (applications) of a tenant."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from pforte.store.base import Base, TenantOwned


class ClientRow(TenantOwned, Base):
    __tablename__ = "clients"
    # The unique (tenant_id, client_id) index also serves keyset pagination of a tenant's clients;
    # the console's list sorts and searches by name and by creation (``ClientRepo.listing``), and
    # the account console reads the few shown there always.
    __table_args__ = (
        UniqueConstraint("tenant_id", "client_id"),
        Index(
            "ix_clients_tenant_id_sort_name",
            "tenant_id",
            text("lower(coalesce(client_name, client_id))"),
            "client_id",
        ),
        Index("ix_clients_tenant_id_lower_client_id", "tenant_id", text("lower(client_id)")),
        Index("ix_clients_tenant_id_created_at", "tenant_id", "created_at", "client_id"),
        Index(
            "ix_clients_tenant_id_account_console",
            "tenant_id",
            postgresql_where=text("show_in_account_console"),
            sqlite_where=text("show_in_account_console"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(128))
    client_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool]
    require_client_secret: Mapped[bool]
    allowed_grant_types: Mapped[list[str]] = mapped_column(JSON)
    allowed_scopes: Mapped[list[str]] = mapped_column(JSON)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    allow_redirect_uri_prefix: Mapped[bool]
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    allowed_cors_origins: Mapped[list[str]] = mapped_column(JSON)
    allow_offline_access: Mapped[bool]
    require_consent: Mapped[bool]
    allow_remember_consent: Mapped[bool]
    allow_no_pkce: Mapped[bool]
    allow_ropc: Mapped[bool]
    back_channel_logout_uri: Mapped[str | None] = mapped_column(String(2000))
    back_channel_logout_session_required: Mapped[bool]
    restrict_to_role: Mapped[str | None] = mapped_column(String(200))
    show_in_account_console: Mapped[bool]
    access_token_lifetime: Mapped[int] = mapped_column(Integer)
    refresh_token_lifetime: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Raised by every change; the ETag of the client (If-Match detects lost updates).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
