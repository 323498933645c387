"""The SQL statements of the change log (``changes`` table; ``dcsim.store.changes``).

A write transaction that changed documents adds one row per (namespace, key) it wrote,
in the same transaction, so the log holds exactly the committed writes. Readers follow
it from a position:

- PostgreSQL: the position is a transaction id. A reader takes the rows of transactions
  from its position up to the oldest transaction still running (``pg_snapshot_xmin``):
  every one of those has finished, so none of their rows can appear later, and a row id
  that committed late is never skipped. A long write transaction delays the rows of
  transactions that started after it until it ends.
- SQLite: writers commit one at a time (``BEGIN IMMEDIATE``), so ids commit in order
  and the position is the last id read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy import func, literal_column, select, tuple_
from sqlalchemy.engine import Connection

from dcsim.model import Document, utcnow
from dcsim.store.tables import changes_table, document_of, documents_table

#: At most this many rows per read; a reader that got a full batch reads again at once.
BATCH = 2000

_PG_TXID = "pg_current_xact_id()::text::bigint"
_PG_XMIN = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


@attrs.frozen
class ChangeRow:
    """A document written by a committed transaction: ``deleted`` when the write removed it."""

    namespace: str
    key: str
    deleted: bool
    origin: str


def record(connection: Connection, changed: Mapping[tuple[str, str], bool], origin: str) -> None:
    """Add a row per written document (``(namespace, key)`` to deleted) in the caller's transaction."""
    if not changed:
        return
    now = utcnow()
    rows = [
        {"namespace": ns, "key": key, "deleted": deleted, "origin": origin, "committed_at": now}
        for (ns, key), deleted in changed.items()
    ]
    insert = changes_table.insert()
    if connection.dialect.name == "postgresql":
        insert = insert.values(txid=literal_column(_PG_TXID))
    connection.execute(insert, rows)


def start_position(connection: Connection) -> int:
    """Where a reader starting now begins: nothing committed from here on is missed."""
    if connection.dialect.name == "postgresql":
        return int(connection.execute(select(literal_column(_PG_XMIN))).scalar_one())
    return int(connection.execute(select(func.coalesce(func.max(changes_table.c.id), 0))).scalar_one())


def read(connection: Connection, position: int) -> tuple[list[ChangeRow], int, bool]:
    """The rows after ``position`` that can be read safely, the next position, and
    whether more rows may wait (the batch was full)."""
    table = changes_table
    columns = (table.c.id, table.c.txid, table.c.namespace, table.c.key, table.c.deleted, table.c.origin)
    if connection.dialect.name == "postgresql":
        horizon = int(connection.execute(select(literal_column(_PG_XMIN))).scalar_one())
        # Whole transactions only: a batch never ends in the middle of one.
        txids = (
            select(table.c.txid)
            .where(table.c.txid >= position, table.c.txid < horizon)
            .group_by(table.c.txid)
            .order_by(table.c.txid)
            .limit(BATCH)
            .subquery()
        )
        found = list(
            connection.execute(select(*columns).where(table.c.txid.in_(select(txids.c.txid))).order_by(table.c.id))
        )
        more = len({row.txid for row in found}) >= BATCH
        after = max(row.txid for row in found) + 1 if more else horizon
        return [_row(r) for r in found], max(after, position), more
    found = list(connection.execute(select(*columns).where(table.c.id > position).order_by(table.c.id).limit(BATCH)))
    after = found[-1].id if found else position
    return [_row(r) for r in found], after, len(found) >= BATCH


def prune(connection: Connection, older_than: datetime) -> int:
    """Delete rows committed before ``older_than``; return how many."""
    return int(connection.execute(changes_table.delete().where(changes_table.c.committed_at < older_than)).rowcount)


def find_many(connection: Connection, namespace: str, keys: Iterable[str]) -> dict[str, Document]:
    """The documents of ``namespace`` among ``keys`` that exist, by key."""
    wanted = sorted(set(keys))
    found: dict[str, Document] = {}
    table = documents_table
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(table).where(tuple_(table.c.namespace, table.c.key).in_([(namespace, k) for k in chunk]))
        for row in connection.execute(query):
            found[row.key] = document_of(row)
    return found


def _row(row: Any) -> ChangeRow:
    return ChangeRow(namespace=row.namespace, key=row.key, deleted=row.deleted, origin=row.origin)
