"""users: case-folded search keys, "must change password", indexes for the User API's filters

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 06:20:00

The User API searches by prefix, without regard to case, over username, e-mail and names
(DESIGN.md §7). SQLite's ``lower()`` folds ASCII only, so each searchable field gets a
case-folded copy (Python's ``str.casefold``, as ``username_key`` already is), written with the
field, under an index with the tenant: a prefix is an index range on both databases.
"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

KEYS = (
    ("email_key", "email", 320),
    ("given_name_key", "given_name", 200),
    ("family_name_key", "family_name", 200),
)


def upgrade() -> None:
    for key, _field, length in KEYS:
        op.add_column("users", sa.Column(key, sa.String(length=length), nullable=True))
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    users = sa.table(
        "users",
        sa.column("id", sa.Uuid()),
        *(sa.column(field, sa.String()) for _key, field, _length in KEYS),
        *(sa.column(key, sa.String()) for key, _field, _length in KEYS),
    )
    connection = op.get_bind()
    fields = [users.c[field] for _key, field, _length in KEYS]
    for row in connection.execute(sa.select(users.c.id, *fields)).all():
        values = {
            key: (value.casefold() if value is not None else None)
            for (key, _f, _l), value in zip(KEYS, row[1:], strict=True)
        }
        connection.execute(sa.update(users).where(users.c.id == row.id).values(**values))
    for key, _field, _length in KEYS:
        op.create_index(f"ix_users_tenant_id_{key}", "users", ["tenant_id", key])
    op.create_index("ix_users_tenant_id_created_at", "users", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_users_tenant_id_created_at", table_name="users")
    for key, _field, _length in reversed(KEYS):
        op.drop_index(f"ix_users_tenant_id_{key}", table_name="users")
    op.drop_column("users", "must_change_password")
    for key, _field, _length in reversed(KEYS):
        op.drop_column("users", key)
