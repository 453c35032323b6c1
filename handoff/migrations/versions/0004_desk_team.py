"""The team desk: roles, the audit log of admin changes, saved replies, private notes,
labels, teams (members, and the team a handoff is routed to), full-text search of messages
(SQLite: an FTS5 table kept by triggers; PostgreSQL: a GIN index on the tsvector), and
settings admins change in the desk (the support hours).

Revision ID: 0004_desk_team
Revises: 0002_agent_sessions
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_desk_team"
down_revision = "0003_customers"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A plain ADD COLUMN (no table rebuild on SQLite): every existing agent is an agent;
    # the service is the one that accepts only "admin" or "agent".
    op.add_column(
        "agents",
        sa.Column("role", sa.String(8), nullable=False, server_default="agent"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer()),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["agents.id"], name="fk_audit_log_actor_id_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_created_at", "audit_log", ["created_at"])
    op.create_table(
        "saved_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortcut", sa.String(32), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_saved_replies"),
        sa.UniqueConstraint("shortcut", name="uq_saved_replies_shortcut"),
    )
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name="fk_notes_conversation_id_conversations"
        ),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_notes_agent_id_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
    )
    op.create_index("ix_notes_conversation_id", "notes", ["conversation_id"])
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_labels"),
        sa.UniqueConstraint("name", name="uq_labels_name"),
    )
    op.create_table(
        "conversation_labels",
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer()),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_conversation_labels_conversation_id_conversations",
        ),
        sa.ForeignKeyConstraint(
            ["label_id"], ["labels.id"], name="fk_conversation_labels_label_id_labels"
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_conversation_labels_agent_id_agents"
        ),
        sa.PrimaryKeyConstraint("conversation_id", "label_id", name="pk_conversation_labels"),
    )
    op.create_index("ix_conversation_labels_label_id", "conversation_labels", ["label_id"])
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_teams"),
        sa.UniqueConstraint("name", name="uq_teams_name"),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_team_members_team_id_teams"),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_team_members_agent_id_agents"
        ),
        sa.PrimaryKeyConstraint("team_id", "agent_id", name="pk_team_members"),
    )
    op.create_index("ix_team_members_agent_id", "team_members", ["agent_id"])
    # A plain ADD COLUMN (no table rebuild on SQLite, no foreign key: SQLite cannot add
    # one to an existing table); the service only ever writes ids of existing teams.
    op.add_column("handoffs", sa.Column("team_id", sa.Integer()))
    op.create_table(
        "desk_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_desk_settings"),
    )
    for statement in SEARCH_UP[op.get_bind().dialect.name]:
        op.execute(statement)


# Full-text search of message texts (handoff/service/search.py reads it). The 'simple'
# configuration and FTS5's unicode61 tokenizer split words without language stemming:
# customers write in many languages.
SEARCH_UP = {
    "sqlite": [
        "CREATE VIRTUAL TABLE messages_fts USING fts5("
        "text, content='messages', content_rowid='id')",
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
        "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, text) "
        "VALUES ('delete', old.id, old.text); END",
        "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN "
        "INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
        "INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END",
        "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",  # the rows already there
    ],
    "postgresql": [
        # Separators become spaces so words split as FTS5 splits them ("QX-1182" is the
        # words qx and 1182, not PostgreSQL's signed number -1182); search.py matches on
        # the very same expression so the index serves it.
        "CREATE INDEX ix_messages_text_tsv ON messages USING gin "
        "(to_tsvector('simple', translate(text, '-./@_:', '      ')))",
    ],
}
SEARCH_DOWN = {
    "sqlite": [
        "DROP TRIGGER messages_fts_update",
        "DROP TRIGGER messages_fts_delete",
        "DROP TRIGGER messages_fts_insert",
        "DROP TABLE messages_fts",
    ],
    "postgresql": ["DROP INDEX ix_messages_text_tsv"],
}


def downgrade() -> None:
    for statement in SEARCH_DOWN[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table("desk_settings")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("team_id")
    op.drop_index("ix_team_members_agent_id", table_name="team_members")
    op.drop_table("team_members")
    op.drop_table("teams")
    op.drop_index("ix_conversation_labels_label_id", table_name="conversation_labels")
    op.drop_table("conversation_labels")
    op.drop_table("labels")
    op.drop_index("ix_notes_conversation_id", table_name="notes")
    op.drop_table("notes")
    op.drop_table("saved_replies")
    op.drop_index("ix_audit_log_created_at", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("role")
