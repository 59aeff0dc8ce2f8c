"""Alembic environment: migrations run on the connection ``hub.store.migrate`` hands in."""

from __future__ import annotations

from alembic import context

import hub.store.models as models

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=models.Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
