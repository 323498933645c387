"""The store: SQLAlchemy 2 on SQLite (embedded) or PostgreSQL, migrated by Alembic.

The driver is chosen by name from the stevedore namespace ``dcsim.store``.
"""

from dcsim.store.base import DocumentSession, Store

__all__ = ["DocumentSession", "Store"]
