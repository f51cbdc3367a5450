"""client secrets and API keys: createdBy, the actor that created one (DESIGN.md §4)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:00:00

``created_by`` holds the actor as audit events name it (``Actor.label()``: ``api_key:<uuid>``,
``system:pforte``, ``system:cli``…). Rows created before this revision keep NULL: who made
them is not known here (their ``*.created`` audit event may still say), and the API shows null.
"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("client_secrets", "api_keys")


# Plain ALTER TABLE on both databases (SQLite has ADD COLUMN, and DROP COLUMN since 3.35): a
# batch operation would copy the table on SQLite for nothing.


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("created_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_column(table, "created_by")
