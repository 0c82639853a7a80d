"""Alembic's entry point: runs the revisions on the connection SqlStore.create_schema hands it."""

from __future__ import annotations

from alembic import context

from trainscope.store.sql import metadata

context.configure(connection=context.config.attributes["connection"], target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
