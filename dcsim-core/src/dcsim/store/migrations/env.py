"""Alembic environment of the dc-sim store.

Migrations run only through :meth:`dcsim.store.sql.SqlStore.upgrade`, which passes an
open connection (already inside the transaction that holds the migration lock) in
``config.attributes["connection"]``; there is no ``alembic.ini``.
"""

from __future__ import annotations

from alembic import context

from dcsim.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("dc-sim migrations need a connection: run them with SqlStore.upgrade()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    on_version_apply=config.attributes.get("on_version_apply"),
)
with context.begin_transaction():
    context.run_migrations()
