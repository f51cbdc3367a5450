"""row versions of tenants and clients (ETag / If-Match, RFC 9110 §13.1.1)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    for table in ("tenants", "clients"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    for table in ("clients", "tenants"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
