"""The SQL statements of the change log (``changes`` table; ``dcsim.store.changes``).

A write transaction that changed documents adds one row per (namespace, key) it wrote,
in the same transaction, so the log holds exactly the committed writes. Readers follow
it from a position:

- PostgreSQL: row ids are handed out at insert, not at commit, so "after the last id
  read" would skip a slow transaction's rows. The position is a transaction id ``low``
  (every transaction below it has finished and was read) and the ids of the
  transactions at or above it already read (``seen``). A read takes the rows of
  transactions from ``low`` not seen yet, whatever is still running, then moves ``low``
  to the oldest transaction that was running before the read (``pg_snapshot_xmin``). A
  long transaction anywhere on the server holds ``low`` back (``seen`` grows meanwhile)
  but delays nothing.
- SQLite: writers commit one at a time (``BEGIN IMMEDIATE``), so ids commit in order
  and the position is the last id read (``low``).
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
class ChangePosition:
    """Where a reader of the change log is (see the module's docstring)."""

    low: int
    seen: frozenset[int] = frozenset()


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


def start_position(connection: Connection) -> ChangePosition:
    """Where a reader starting now begins: nothing committed from here on is missed."""
    if connection.dialect.name == "postgresql":
        return ChangePosition(int(connection.execute(select(literal_column(_PG_XMIN))).scalar_one()))
    return ChangePosition(int(connection.execute(select(func.coalesce(func.max(changes_table.c.id), 0))).scalar_one()))


def read(connection: Connection, position: ChangePosition) -> tuple[list[ChangeRow], ChangePosition, bool]:
    """The committed rows after ``position``, the next position, and whether more rows
    may wait (the batch was full)."""
    table = changes_table
    columns = (table.c.id, table.c.txid, table.c.namespace, table.c.key, table.c.deleted, table.c.origin)
    if connection.dialect.name == "postgresql":
        # Taken first: every transaction below it had finished, so the query below sees all of its rows.
        horizon = int(connection.execute(select(literal_column(_PG_XMIN))).scalar_one())
        condition = table.c.txid >= position.low
        if position.seen:
            condition = condition & table.c.txid.not_in(sorted(position.seen))
        # Whole transactions only: a batch never ends in the middle of one.
        txids = select(table.c.txid).where(condition).group_by(table.c.txid).order_by(table.c.txid).limit(BATCH)
        found = list(
            connection.execute(select(*columns).where(table.c.txid.in_(txids.scalar_subquery())).order_by(table.c.id))
        )
        read_txids = {row.txid for row in found}
        more = len(read_txids) >= BATCH
        low = position.low if more else max(position.low, horizon)
        seen = frozenset(t for t in position.seen | read_txids if t >= low)
        return [_row(r) for r in found], ChangePosition(low, seen), more
    found = list(
        connection.execute(select(*columns).where(table.c.id > position.low).order_by(table.c.id).limit(BATCH))
    )
    after = found[-1].id if found else position.low
    return [_row(r) for r in found], ChangePosition(after), len(found) >= BATCH


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
