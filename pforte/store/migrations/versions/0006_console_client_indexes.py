"""the consoles: indexes for the applications list (name, clientId, created) and the account console

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:20:00

The consoles' built-in clients are not made here: their redirect URIs follow
``PFORTE_PUBLIC_URL``, which a migration does not know; the server creates them at start
(``services.consoles.ensure_console_clients``).
"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index(
        "ix_clients_tenant_id_sort_name",
        "clients",
        ["tenant_id", sa.text("lower(coalesce(client_name, client_id))"), "client_id"],
    )
    op.create_index(
        "ix_clients_tenant_id_lower_client_id", "clients", ["tenant_id", sa.text("lower(client_id)")]
    )
    op.create_index("ix_clients_tenant_id_created_at", "clients", ["tenant_id", "created_at", "client_id"])
    op.create_index(
        "ix_clients_tenant_id_account_console",
        "clients",
        ["tenant_id"],
        postgresql_where=sa.text("show_in_account_console"),
        sqlite_where=sa.text("show_in_account_console"),
    )


def downgrade() -> None:
    op.drop_index("ix_clients_tenant_id_account_console", table_name="clients")
    op.drop_index("ix_clients_tenant_id_created_at", table_name="clients")
    op.drop_index("ix_clients_tenant_id_lower_client_id", table_name="clients")
    op.drop_index("ix_clients_tenant_id_sort_name", table_name="clients")
