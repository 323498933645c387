"""ITSM records in the dc-sim store, with an in-memory index written through.

Each kind has a namespace (``itsm.incident``, ``itsm.problem``, ``itsm.change``) keyed
by record number; the event a write causes goes into the store's outbox in the
transaction of the write. Numbers come from a counter document per kind (``itsm.counter``)
advanced with its optimistic version in the same transaction that writes the new
record, so two processes never hand out one number and a failed write burns none.

Other processes' writes reach the index through the store's change feed
(``dcsim.store.changes``) within its staleness bound; a get by number that misses the
index reads the store before answering NotFound, so a record made elsewhere a moment
ago is found at once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from dcsim.convert import converter
from dcsim.errors import Conflict, NotFound
from dcsim.itsm.model import Record

if TYPE_CHECKING:
    from dcsim.model import Event
    from dcsim.store.base import Store
    from dcsim.store.changes import ChangeFeed, Following, Update

R = TypeVar("R", bound=Record)

COUNTER_NAMESPACE = "itsm.counter"
FIRST_SERIAL = 1001
#: Tries at the next serial; processes creating at once lose races to each other, and
#: a jittered, growing pause between tries lets each through.
_ALLOCATION_ATTEMPTS = 30
_BACKOFF_SECONDS = 0.005


class RecordBook(Generic[R]):
    """The records of one kind: loaded at start, written through on every change."""

    def __init__(self, cls: type[R], namespace: str, prefix: str) -> None:
        self.cls = cls
        self.namespace = namespace
        self.prefix = prefix
        self._records: dict[str, R] = {}
        self._versions: dict[str, int] = {}
        self._store: Store | None = None
        self._following: Following | None = None
        #: Whether other processes write this kind too (a miss reads the store).
        self._shared = False

    async def load(self, store: Store, changes: ChangeFeed | None = None) -> None:
        """Read every record of the kind from ``store`` into the index, and follow the
        writes of other processes through ``changes`` (the instance's change feed)."""
        self._store = store
        if changes is not None:
            self.close()
            # Before the read: a write committed meanwhile is applied again, never missed.
            self._following = changes.follow([self.namespace], self.apply)
            self._shared = changes.active
        self._records.clear()
        self._versions.clear()
        for doc in await asyncio.to_thread(store.list, self.namespace):
            self._index(doc.key, doc.value, doc.version)

    def close(self) -> None:
        """Stop following other processes' writes."""
        if self._following is not None:
            self._following.cancel()
            self._following = None

    def apply(self, updates: list[Update]) -> None:
        """Take records other processes wrote (the change feed's callback): a version
        newer than the one indexed replaces it, a deleted record leaves."""
        for update in updates:
            if update.document is None:
                self._records.pop(update.key, None)
                self._versions.pop(update.key, None)
            elif update.document.version > self._versions.get(update.key, 0):
                self._index(update.key, update.document.value, update.document.version)

    def _index(self, number: str, value: dict[str, object], version: int) -> None:
        self._records[number] = converter.structure(value, self.cls)
        self._versions[number] = version

    def _read_through(self, number: str) -> bool:
        """Index ``number`` from the store if another process made it; True when found.

        A blocking read in the caller's thread, on a miss only: the record was made
        elsewhere within the feed's staleness bound, or does not exist.
        """
        if not self._shared or self._store is None:
            return False
        doc = self._store.find(self.namespace, number)
        if doc is None:
            return False
        self._index(number, doc.value, doc.version)
        return True

    @property
    def store(self) -> Store:
        """The store the records live in (set by :meth:`load`)."""
        if self._store is None:
            raise RuntimeError("the ITSM records are not loaded")
        return self._store

    def get(self, number: str) -> R:
        """The record ``number``; NotFound otherwise."""
        record = self._records.get(number)
        if record is None and self._read_through(number):
            record = self._records[number]
        if record is None:
            raise NotFound(f"no {self.cls.__name__.lower()} {number!r}")
        return record

    def all(self) -> list[R]:
        """Every record, newest first."""
        return [self._records[number] for number in sorted(self._records, reverse=True)]

    def exists(self, number: str) -> bool:
        """True when ``number`` is a record of this kind."""
        return number in self._records or self._read_through(number)

    async def add(self, record: R, announce: Callable[[R], Event] | None = None) -> R:
        """Give ``record`` the next number, store it and index it; ``announce`` makes the
        event of the numbered record, committed with it."""
        for attempt in range(_ALLOCATION_ATTEMPTS):
            try:
                version = await asyncio.to_thread(self._insert, record, announce)
                break
            except Conflict:
                # Another process took the serial first; the next attempt reads its successor.
                if attempt == _ALLOCATION_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(random.uniform(0, _BACKOFF_SECONDS * min(attempt + 1, 10)))
        self._records[record.number] = record
        self._versions[record.number] = version
        return record

    async def save(self, record: R, events: Sequence[Event] = ()) -> None:
        """Write a changed record (and ``events``, committed with it); Conflict when another
        process changed it meanwhile."""
        expected = self._versions[record.number]
        value = converter.unstructure(record)

        def write() -> int:
            with self.store.transaction() as session:
                version = session.put(self.namespace, record.number, value, expected_version=expected).version
                for event in events:
                    session.add_event(event)
                return version

        try:
            version = await asyncio.to_thread(write)
        except Conflict:
            doc = await asyncio.to_thread(self.store.get, self.namespace, record.number)
            self._records[record.number] = converter.structure(doc.value, self.cls)
            self._versions[record.number] = doc.version
            raise Conflict(f"{record.number} was changed elsewhere meanwhile; read it again and retry") from None
        self._records[record.number] = record
        self._versions[record.number] = version

    def _insert(self, record: R, announce: Callable[[R], Event] | None) -> int:
        with self.store.transaction() as session:
            counter = session.find(COUNTER_NAMESPACE, self.prefix)
            serial = int(counter.value["next"]) if counter else FIRST_SERIAL
            session.put(
                COUNTER_NAMESPACE, self.prefix, {"next": serial + 1}, expected_version=counter.version if counter else 0
            )
            record.number = f"{self.prefix}{serial:07d}"
            version = session.put(
                self.namespace, record.number, converter.unstructure(record), expected_version=0
            ).version
            if announce is not None:
                session.add_event(announce(record))
            return version
