"""audit events: client and user columns with indexes for the Event API; daily counts and
active users for the Metric API; credentials: when their expiry warning was written

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 14:00:00

The Event API filters a tenant's events by type, client, user and time, newest first, on
indexes that lead with the tenant. ``client_id`` and ``user_id`` are filled when an event is
written (``Event.subjects``); rows from before this revision are filled here by the same rule.
"""

import uuid
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0009"
down_revision: Union[str, Sequence[str], None] = "0008"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (name, columns, partial: the column whose NULLs the index leaves out)
INDEXES = (
    ("ix_audit_events_tenant_id_name_id", ["tenant_id", "name", "id"], None),
    ("ix_audit_events_tenant_id_client_id_id", ["tenant_id", "client_id", "id"], "client_id"),
    ("ix_audit_events_tenant_id_user_id_id", ["tenant_id", "user_id", "id"], "user_id"),
)
CREDENTIALS = ("client_secrets", "api_keys")


def _tenant_key(table: str) -> list[sa.Column[object] | sa.ForeignKeyConstraint]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("client_id", sa.String(length=128), nullable=True))
    op.add_column("audit_events", sa.Column("user_id", sa.Uuid(), nullable=True))
    _fill_subjects()
    for name, columns, partial in INDEXES:
        where = sa.text(f"{partial} IS NOT NULL") if partial else None
        op.create_index(name, "audit_events", columns, sqlite_where=where, postgresql_where=where)
    op.create_table(
        "daily_counts",
        *_tenant_key("daily_counts"),
        sa.Column("tokens_issued", sa.BigInteger(), nullable=False),
        sa.Column("failed_client_authentications", sa.BigInteger(), nullable=False),
        sa.Column("sign_ins", sa.BigInteger(), nullable=False),
        sa.Column("sign_in_failures", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "day", "client_id", name=op.f("pk_daily_counts")),
    )
    op.create_table(
        "daily_active_users",
        *_tenant_key("daily_active_users"),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "day", "client_id", "user_id", name=op.f("pk_daily_active_users")
        ),
    )
    for table in CREDENTIALS:
        op.add_column(table, sa.Column("expiry_warned_at", sa.DateTime(timezone=True), nullable=True))


def _fill_subjects() -> None:
    """The rule of ``Event.subjects``, for the events written before it."""
    events = sa.table(
        "audit_events",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("target_type", sa.String()),
        sa.column("target_id", sa.String()),
        sa.column("changes", sa.JSON()),
        sa.column("client_id", sa.String()),
        sa.column("user_id", sa.Uuid()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(events.c.id, events.c.name, events.c.target_type, events.c.target_id, events.c.changes)
    ).all()
    for row in rows:
        changes = row.changes if isinstance(row.changes, dict) else {}
        client_id = changes.get("clientId")
        if row.target_type in ("client", "consent"):
            client_id = row.target_id
        elif row.target_type == "client_role":
            client_id = row.target_id.partition("/")[0]
        user_id = None
        if row.target_type == "user" and row.name != "user.sign_in_failed":
            try:
                user_id = uuid.UUID(row.target_id)
            except ValueError:
                user_id = None
        client_id = client_id if isinstance(client_id, str) else None
        if client_id is not None or user_id is not None:
            connection.execute(
                sa.update(events).where(events.c.id == row.id).values(client_id=client_id, user_id=user_id)
            )


def downgrade() -> None:
    for table in reversed(CREDENTIALS):
        op.drop_column(table, "expiry_warned_at")
    op.drop_table("daily_active_users")
    op.drop_table("daily_counts")
    for name, _columns, _partial in reversed(INDEXES):
        op.drop_index(name, table_name="audit_events")
    op.drop_column("audit_events", "user_id")
    op.drop_column("audit_events", "client_id")
