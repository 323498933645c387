"""The SQL store's outbox, relay lease and idempotency records.

Each function runs on an open connection inside the caller's transaction; ``SqlStore``
gives each its own transaction (see ``dcsim/store/sql.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import attrs
from sqlalchemy import exc, func, or_, select
from sqlalchemy.engine import Connection

from dcsim.convert import converter, to_json
from dcsim.model import Event, utcnow
from dcsim.store.tables import idempotency_table, leases_table, outbox_table, utc
from dcsim.tracing import with_traceparent


@attrs.frozen
class OutboxEntry:
    """An event waiting in the outbox: ``id`` orders the entries of one database."""

    id: int
    event: Event


@attrs.frozen
class StoredResponse:
    """What the store remembers of a request sent with an ``Idempotency-Key``.

    ``status`` is None while the first request is still being answered.
    """

    fingerprint: str
    status: int | None
    headers: list[tuple[str, str]]
    body: bytes | None
    created_at: datetime


def outbox_row(event: Event) -> dict[str, Any]:
    """The row that puts ``event`` in the outbox, with the trace context of the span
    current here (the request or handler that caused it) when tracing is on."""
    return {"event": to_json(with_traceparent(event)), "created_at": utcnow(), "sent_at": None}


def pending(connection: Connection, limit: int) -> list[OutboxEntry]:
    """The oldest ``limit`` events not sent yet, in outbox order."""
    query = select(outbox_table.c.id, outbox_table.c.event).where(outbox_table.c.sent_at.is_(None))
    rows = connection.execute(query.order_by(outbox_table.c.id).limit(limit))
    return [OutboxEntry(row.id, converter.structure(row.event, Event)) for row in rows]


def count_pending(connection: Connection) -> int:
    """How many events wait in the outbox."""
    query = select(func.count()).select_from(outbox_table).where(outbox_table.c.sent_at.is_(None))
    return int(connection.execute(query).scalar_one())


def mark_sent(connection: Connection, ids: list[int]) -> None:
    """Record that the bus took the entries ``ids``."""
    if ids:
        connection.execute(outbox_table.update().where(outbox_table.c.id.in_(ids)).values(sent_at=utcnow()))


def prune_sent(connection: Connection, older_than: datetime) -> int:
    """Delete entries sent before ``older_than``; return how many."""
    query = outbox_table.delete().where(outbox_table.c.sent_at.is_not(None), outbox_table.c.sent_at < older_than)
    return int(connection.execute(query).rowcount)


def take_lease(connection: Connection, name: str, holder: str, seconds: float) -> bool:
    """Hold lease ``name`` for ``seconds`` if it is free, expired or already ``holder``'s."""
    now = utcnow()
    expires = now + timedelta(seconds=seconds)
    table = leases_table
    renewed = connection.execute(
        table.update()
        .where(table.c.name == name, or_(table.c.holder == holder, table.c.expires_at < now))
        .values(holder=holder, expires_at=expires)
    )
    if renewed.rowcount:
        return True
    try:
        with connection.begin_nested():
            connection.execute(table.insert().values(name=name, holder=holder, expires_at=expires))
    except exc.IntegrityError:
        return False  # another holder has it and it has not expired
    return True


def drop_lease(connection: Connection, name: str, holder: str) -> None:
    """Give lease ``name`` up if ``holder`` has it."""
    connection.execute(leases_table.delete().where(leases_table.c.name == name, leases_table.c.holder == holder))


def reserve(connection: Connection, key: str, fingerprint: str, expired_before: datetime) -> StoredResponse | None:
    """Reserve ``key`` for a first request; the stored entry if another request has it.

    An entry created before ``expired_before`` has expired: it is replaced.
    """
    table = idempotency_table
    connection.execute(table.delete().where(table.c.key == key, table.c.created_at < expired_before))
    try:
        with connection.begin_nested():
            connection.execute(table.insert().values(key=key, fingerprint=fingerprint, created_at=utcnow()))
    except exc.IntegrityError:
        row = connection.execute(select(table).where(table.c.key == key)).one()
        headers = [(str(name), str(value)) for name, value in row.headers or []]
        return StoredResponse(row.fingerprint, row.status, headers, row.body, utc(row.created_at))
    return None


def record(connection: Connection, key: str, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    """Store the response to the first request with ``key``."""
    table = idempotency_table
    connection.execute(
        table.update().where(table.c.key == key).values(status=status, headers=[list(h) for h in headers], body=body)
    )


def release(connection: Connection, key: str) -> None:
    """Forget ``key`` (its first request failed: a retry may run it again)."""
    connection.execute(idempotency_table.delete().where(idempotency_table.c.key == key))


def prune_keys(connection: Connection, older_than: datetime) -> int:
    """Delete keys created before ``older_than``; return how many."""
    return int(
        connection.execute(idempotency_table.delete().where(idempotency_table.c.created_at < older_than)).rowcount
    )
