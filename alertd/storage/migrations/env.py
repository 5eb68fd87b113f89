"""Alembic environment: the engine comes from alertd (``config.attributes['engine']``), never from a .ini."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import alertd.storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from alertd.storage.pglocks import MIGRATE, lock_for_transaction

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=engine.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        # Replicas starting together on an empty database: one upgrades, the others wait and find it current.
        lock_for_transaction(connection, MIGRATE)
        context.run_migrations()
    connection.commit()
