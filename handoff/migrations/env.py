"""Alembic environment: migrations run on a connection handed in by handoff.db."""

from alembic import context

from handoff.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through handoff.db.upgrade(), which passes a connection")
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
