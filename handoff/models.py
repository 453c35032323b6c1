"""Database tables of the agent side (SQLAlchemy Core, tables only)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from .contract import reason_check_sql

# Stable constraint names keep Alembic migrations portable between SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

CONVERSATION_STATES = ("bot", "queued", "assigned", "closed")
AUTHORS = ("customer", "bot", "agent", "system")
TICKET_STATES = ("open", "done")
ROLES = ("admin", "agent")

agents = Table(
    "agents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("max_chats", Integer, nullable=False, default=3),
    Column("online", Boolean, nullable=False, default=False),
    Column("last_seen_at", DateTime(timezone=True)),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # "admin" or "agent" (ROLES); the service refuses anything else.
    Column("role", String(8), nullable=False, server_default="agent"),
    CheckConstraint("max_chats >= 1", name="max_chats_positive"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("state", String(16), nullable=False, default="bot"),
    Column("agent_id", Integer, ForeignKey("agents.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    # The shop's logged-in customer, when the shop signed who it is (bot/identity.py).
    Column("customer_id", Integer, ForeignKey("customers.id")),
    # The last agent reply mailed to a customer who left, or seen live (bot/continuation.py).
    Column("mailed_up_to", Integer, nullable=False, server_default="0"),
    CheckConstraint("state IN ('bot', 'queued', 'assigned', 'closed')", name="state_valid"),
    # An assigned conversation has exactly one owner; no other state has one.
    CheckConstraint("(state = 'assigned') = (agent_id IS NOT NULL)", name="owner_iff_assigned"),
    Index("ix_conversations_state_agent", "state", "agent_id"),
    Index("ix_conversations_customer_id", "customer_id"),
)

# A customer the shop vouched for (a signed identity): the shop's own id for them, and
# the name and e-mail it gave last. Anonymous chats have no row here.
customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("external_id", String(128), nullable=False, unique=True),
    Column("name", String(100)),
    Column("email", String(254)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    Column("author", String(16), nullable=False),
    Column("agent_id", Integer, ForeignKey("agents.id")),
    Column("text", Text, nullable=False),
    Column("buttons", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("author IN ('customer', 'bot', 'agent', 'system')", name="author_valid"),
    Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    # AUTOINCREMENT on SQLite: ids never go back, so "messages after id N" is reliable.
    sqlite_autoincrement=True,
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("context", JSON, nullable=False),
    Column("offline", Boolean, nullable=False, default=False),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("assigned_at", DateTime(timezone=True)),
    Column("first_response_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("outcome", String(16)),
    Column("agent_id", Integer, ForeignKey("agents.id")),
    # The team it was routed or transferred to (None: everyone). No foreign key: added
    # to an existing table, which SQLite cannot give one; the service writes real ids.
    Column("team_id", Integer),
    CheckConstraint(reason_check_sql(), name="reason_valid"),
    Index("ix_handoffs_conversation_id", "conversation_id"),
)

offline_tickets = Table(
    "offline_tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    Column("handoff_id", Integer, ForeignKey("handoffs.id")),
    Column("contact", String(255)),
    Column("message", Text),
    Column("state", String(8), nullable=False, default="open"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("done_by", Integer, ForeignKey("agents.id")),
    CheckConstraint("state IN ('open', 'done')", name="state_valid"),
)

csat_answers = Table(
    "csat_answers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "conversation_id",
        String(64),
        ForeignKey("conversations.id"),
        nullable=False,
        unique=True,
    ),
    Column("score", Integer, nullable=False),
    Column("comment", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
)

# One row per desk sign-in: the token names its session, and signing out (or an admin)
# revokes the row, so a copied token stops working at once instead of at its expiry.
agent_sessions = Table(
    "agent_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_agent_sessions_agent_id", "agent_id"),
)

# Every admin change: who (the actor's id, and a name that survives the actor: "cli" for
# the command line), what (action, target, detail) and when.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("actor_id", Integer, ForeignKey("agents.id")),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_audit_log_created_at", "created_at"),
)

saved_replies = Table(
    "saved_replies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shortcut", String(32), nullable=False, unique=True),
    Column("title", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Private notes live apart from ``messages`` on purpose: everything the customer can
# read (their API, their socket, the transcript e-mail) reads ``messages`` only.
notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_notes_conversation_id", "conversation_id"),
)

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

conversation_labels = Table(
    "conversation_labels",
    metadata,
    Column("conversation_id", String(64), ForeignKey("conversations.id"), primary_key=True),
    Column("label_id", Integer, ForeignKey("labels.id"), primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_conversation_labels_label_id", "label_id"),
)

teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team_id", Integer, ForeignKey("teams.id"), primary_key=True),
    Column("agent_id", Integer, ForeignKey("agents.id"), primary_key=True),
    Index("ix_team_members_agent_id", "agent_id"),
)

# What admins change in the desk over the files' defaults (today: ``support_hours``, the
# same shape as in shop.yml).
desk_settings = Table(
    "desk_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
