"""Document operations on one SQLAlchemy session (``DocumentSession`` of the SQL store).

Version checks are conditional statements, so they hold against concurrent writers in
other sessions and processes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Result, exc, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from dcsim.errors import Conflict, InvalidInput, NotFound
from dcsim.model import Document, Event, utcnow
from dcsim.store.base import DocumentSession
from dcsim.store.engine import first_line, translate_errors
from dcsim.store.outbox import outbox_row
from dcsim.store.tables import MAX_KEY_LENGTH, MAX_NAMESPACE_LENGTH, document_of, documents_table, outbox_table


class SqlDocumentSession(DocumentSession):
    """Document operations on one SQLAlchemy session; the caller owns its transaction."""

    def __init__(self, session: Session, url: URL) -> None:
        self.session = session
        self._url = url
        #: How many outbox events this session added (the store wakes the relay on commit).
        self.events_added = 0
        #: The documents this session wrote, ``(namespace, key)`` to deleted (the change log).
        self.changed: dict[tuple[str, str], bool] = {}

    def _execute(self, query: Any) -> Result[Any]:
        with translate_errors(self._url):
            return self.session.execute(query)

    def get(self, namespace: str, key: str) -> Document:
        """The document; NotFound if it does not exist."""
        document = self.find(namespace, key)
        if document is None:
            raise NotFound(f"no document {key!r} in {namespace!r}")
        return document

    def find(self, namespace: str, key: str) -> Document | None:
        """The document, or None."""
        row = self._execute(select(documents_table).where(*_identity(namespace, key))).one_or_none()
        return None if row is None else document_of(row)

    def put(self, namespace: str, key: str, value: dict[str, Any], expected_version: int | None = None) -> Document:
        """Write a document; version checks are conditional statements, so they hold against
        concurrent writers in other sessions and processes."""
        _check_name(namespace, key)
        if not isinstance(value, dict):
            raise InvalidInput(f"a document value must be a JSON object, not {type(value).__name__}")
        if expected_version is not None and expected_version < 0:
            raise InvalidInput(f"expected_version must be None or >= 0, not {expected_version}")
        table = documents_table
        now = utcnow()
        if expected_version is None:
            upsert = (postgresql.insert if self._url.get_backend_name() == "postgresql" else sqlite.insert)(table)
            query: Any = upsert.values(namespace=namespace, key=key, value=value, version=1, updated_at=now)
            query = query.on_conflict_do_update(
                index_elements=[table.c.namespace, table.c.key],
                set_={"value": query.excluded["value"], "version": table.c.version + 1, "updated_at": now},
            )
        elif expected_version == 0:
            query = table.insert().values(namespace=namespace, key=key, value=value, version=1, updated_at=now)
        else:
            query = (
                table.update()
                .where(*_identity(namespace, key), table.c.version == expected_version)
                .values(value=value, version=expected_version + 1, updated_at=now)
            )
        try:
            # A conditional write gets a savepoint, so that a failed one leaves the outer
            # transaction usable (PostgreSQL aborts the whole transaction on any error
            # otherwise). An upsert cannot conflict, and bulk writes are mostly upserts.
            savepoint = self.session.begin_nested() if expected_version is not None else contextlib.nullcontext()
            with translate_errors(self._url), savepoint:
                row = self.session.execute(query.returning(*table.c)).one_or_none()
        except exc.IntegrityError:
            raise Conflict(f"document {key!r} in {namespace!r} already exists") from None
        except (exc.StatementError, TypeError, ValueError) as error:
            # The JSON encoder fails before the statement is sent (wrapped in StatementError by
            # some drivers); PostgreSQL itself refuses what JSONB or text cannot hold (DataError).
            cause = getattr(error, "orig", None) or error
            if not isinstance(error, exc.DataError) and not isinstance(cause, (TypeError, ValueError)):
                raise
            raise InvalidInput(f"document {key!r} in {namespace!r} cannot be stored: {first_line(cause)}") from error
        if row is None:
            raise Conflict(f"document {key!r} in {namespace!r} is not at version {expected_version}")
        self.changed[(namespace, key)] = False
        return document_of(row)

    def put_many(self, namespace: str, values: Mapping[str, dict[str, Any]]) -> int:
        """Upsert many documents in one executemany batch (no RETURNING, no savepoints)."""
        now = utcnow()
        rows = []
        for key, value in values.items():
            _check_name(namespace, key)
            if not isinstance(value, dict):
                raise InvalidInput(f"a document value must be a JSON object, not {type(value).__name__} ({key!r})")
            rows.append({"namespace": namespace, "key": key, "value": value, "version": 1, "updated_at": now})
        if not rows:
            return 0
        table = documents_table
        upsert = (postgresql.insert if self._url.get_backend_name() == "postgresql" else sqlite.insert)(table)
        query = upsert.on_conflict_do_update(
            index_elements=[table.c.namespace, table.c.key],
            set_={"value": upsert.excluded["value"], "version": table.c.version + 1, "updated_at": now},
        )
        try:
            with translate_errors(self._url):
                self.session.execute(query, rows)
        except (exc.StatementError, TypeError, ValueError) as error:
            cause = getattr(error, "orig", None) or error
            if not isinstance(error, exc.DataError) and not isinstance(cause, (TypeError, ValueError)):
                raise
            raise InvalidInput(f"documents in {namespace!r} cannot be stored: {first_line(cause)}") from error
        self.changed.update(((namespace, key), False) for key in values)
        return len(rows)

    def delete(self, namespace: str, key: str, expected_version: int | None = None) -> None:
        """Delete a document; NotFound if absent, Conflict on a version mismatch."""
        query = documents_table.delete().where(*_identity(namespace, key))
        if expected_version is not None:
            query = query.where(documents_table.c.version == expected_version)
        if self._execute(query.returning(documents_table.c.version)).first() is not None:
            self.changed[(namespace, key)] = True
            return
        if expected_version is not None and self.find(namespace, key) is not None:
            raise Conflict(f"document {key!r} in {namespace!r} is not at version {expected_version}")
        raise NotFound(f"no document {key!r} in {namespace!r}")

    def list(self, namespace: str, prefix: str = "", limit: int | None = None, offset: int = 0) -> list[Document]:
        """Documents of ``namespace`` whose key starts with ``prefix``, ordered by key."""
        if (limit is not None and limit < 0) or offset < 0:
            raise InvalidInput(f"limit and offset must not be negative, not {limit} and {offset}")
        query = (
            select(documents_table)
            .where(*_in_prefix(namespace, prefix))
            .order_by(documents_table.c.key)
            .limit(limit)
            .offset(offset)
        )
        return [document_of(row) for row in self._execute(query)]

    def count(self, namespace: str, prefix: str = "") -> int:
        """How many documents ``list`` would return without a limit."""
        query = select(func.count()).select_from(documents_table).where(*_in_prefix(namespace, prefix))
        return int(self._execute(query).scalar_one())

    def add_event(self, event: Event) -> None:
        """Insert ``event`` into the outbox, in this session's transaction."""
        try:
            self._execute(outbox_table.insert().values(**outbox_row(event)))
        except (exc.StatementError, TypeError, ValueError) as error:
            cause = getattr(error, "orig", None) or error
            if not isinstance(error, exc.DataError) and not isinstance(cause, (TypeError, ValueError)):
                raise
            raise InvalidInput(f"event {event.type!r} cannot be stored: {first_line(cause)}") from error
        self.events_added += 1


def _check_name(namespace: str, key: str) -> None:
    if not 0 < len(namespace) <= MAX_NAMESPACE_LENGTH:
        raise InvalidInput(f"a namespace must have 1 to {MAX_NAMESPACE_LENGTH} characters")
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise InvalidInput(f"a key must have 1 to {MAX_KEY_LENGTH} characters")


def _identity(namespace: str, key: str) -> tuple[Any, ...]:
    return documents_table.c.namespace == namespace, documents_table.c.key == key


def _in_prefix(namespace: str, prefix: str) -> tuple[Any, ...]:
    # A key range instead of LIKE: no wildcard escaping, case-sensitive on SQLite too,
    # and both backends answer it from the primary-key index.
    conditions: tuple[Any, ...] = (documents_table.c.namespace == namespace,)
    if prefix:
        conditions += (documents_table.c.key >= prefix,)
        upper = _prefix_upper_bound(prefix)
        if upper is not None:
            conditions += (documents_table.c.key < upper,)
    return conditions


def _prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string, in code point order, above every string starting with ``prefix``."""
    stem = prefix.rstrip(chr(0x10FFFF))
    if not stem:
        return None
    last = ord(stem[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:
        last = 0xE000
    return stem[:-1] + chr(last)
