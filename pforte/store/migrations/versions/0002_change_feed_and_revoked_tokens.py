"""change feed (cache invalidation across processes) and revoked tokens (RFC 7009 deny-list)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Each inserted change becomes a NOTIFY on commit; the payload is "kind tenant_id subject".
NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION pforte_notify_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify(
        'pforte_changes',
        NEW.seq::text || ' ' || NEW.kind || ' ' || COALESCE(NEW.tenant_id::text, '-') || ' '
            || COALESCE(NEW.subject, '')
    );
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
NOTIFY_TRIGGER = """
CREATE TRIGGER change_log_notify AFTER INSERT ON change_log
FOR EACH ROW EXECUTE FUNCTION pforte_notify_change()
"""


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_log")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_log_created_at"), ["created_at"], unique=False)

    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_revoked_tokens_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_tokens")),
    )
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_revoked_tokens_expires_at", ["expires_at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(NOTIFY_FUNCTION)
        op.execute(NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS change_log_notify ON change_log")
        op.execute("DROP FUNCTION IF EXISTS pforte_notify_change()")
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_revoked_tokens_expires_at")
    op.drop_table("revoked_tokens")
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_log_created_at"))
    op.drop_table("change_log")
