"""The e-mail continuation's mark: the last agent reply of a chat that was mailed or seen
live, kept in the database so several web workers and a restart never mail it twice.

Revision ID: 0005_mailed_up_to
Revises: 0004_desk_team
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_mailed_up_to"
down_revision = "0004_desk_team"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN with a default (no table rebuild on SQLite): 0 is "nothing yet".
    op.add_column(
        "conversations",
        sa.Column("mailed_up_to", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("mailed_up_to")
