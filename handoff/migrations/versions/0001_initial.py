"""Initial schema: agents, conversations, messages, handoffs, tickets, CSAT.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("max_chats", sa.Integer(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", TZ),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.CheckConstraint("max_chats >= 1", name="ck_agents_max_chats_positive"),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        sa.UniqueConstraint("login", name="uq_agents_login"),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.Integer()),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("closed_at", TZ),
        sa.CheckConstraint(
            "state IN ('bot', 'queued', 'assigned', 'closed')",
            name="ck_conversations_state_valid",
        ),
        sa.CheckConstraint(
            "(state = 'assigned') = (agent_id IS NOT NULL)",
            name="ck_conversations_owner_iff_assigned",
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_conversations_agent_id_agents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
    )
    op.create_index("ix_conversations_state_agent", "conversations", ["state", "agent_id"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.Integer()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON()),
        sa.Column("created_at", TZ, nullable=False),
        sa.CheckConstraint(
            "author IN ('customer', 'bot', 'agent', 'system')",
            name="ck_messages_author_valid",
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_messages_agent_id_agents"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_messages_conversation_id_conversations",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_messages_conversation_id_id", "messages", ["conversation_id", "id"])
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("queued_at", TZ, nullable=False),
        sa.Column("assigned_at", TZ),
        sa.Column("first_response_at", TZ),
        sa.Column("closed_at", TZ),
        sa.Column("outcome", sa.String(16)),
        sa.Column("agent_id", sa.Integer()),
        sa.CheckConstraint(
            "reason IN ('customer_request', 'low_confidence', 'frustration', 'unhelpful_answer')",
            name="ck_handoffs_reason_valid",
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_handoffs_agent_id_agents"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_handoffs_conversation_id_conversations",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_handoffs"),
    )
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])
    op.create_table(
        "offline_tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("handoff_id", sa.Integer()),
        sa.Column("contact", sa.String(255)),
        sa.Column("message", sa.Text()),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("done_by", sa.Integer()),
        sa.CheckConstraint("state IN ('open', 'done')", name="ck_offline_tickets_state_valid"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_offline_tickets_conversation_id_conversations",
        ),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name="fk_offline_tickets_handoff_id_handoffs"
        ),
        sa.ForeignKeyConstraint(
            ["done_by"], ["agents.id"], name="fk_offline_tickets_done_by_agents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_offline_tickets"),
    )
    op.create_table(
        "csat_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("created_at", TZ, nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_csat_answers_score_range"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_csat_answers_conversation_id_conversations",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_csat_answers"),
        sa.UniqueConstraint("conversation_id", name="uq_csat_answers_conversation_id"),
    )


def downgrade() -> None:
    op.drop_table("csat_answers")
    op.drop_table("offline_tickets")
    op.drop_index("ix_handoffs_conversation_id", table_name="handoffs")
    op.drop_table("handoffs")
    op.drop_index("ix_messages_conversation_id_id", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_conversations_state_agent", table_name="conversations")
    op.drop_table("conversations")
    op.drop_table("agents")
