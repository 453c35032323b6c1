"""Customers: a signed identity links conversations to the shop's customer.

Revision ID: 0003_customers
Revises: 0002_agent_sessions
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_customers"
down_revision = "0002_agent_sessions"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(100)),
        sa.Column("email", sa.String(254)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("external_id", name="uq_customers_external_id"),
    )
    # Batch mode: SQLite adds a foreign key only by rebuilding the table.
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("customer_id", sa.Integer()))
        batch.create_foreign_key(
            "fk_conversations_customer_id_customers", "customers", ["customer_id"], ["id"]
        )
        batch.create_index("ix_conversations_customer_id", ["customer_id"])


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_customer_id")
        batch.drop_constraint("fk_conversations_customer_id_customers", type_="foreignkey")
        batch.drop_column("customer_id")
    op.drop_table("customers")
