"""One world across processes: the world lock, the world journal and catching up.

On a shared store (PostgreSQL: several ``dcsim serve`` processes, SPEC-018 "The world")
every process keeps the whole world in memory, and the simulation's invariants
(placement, capacity, addresses, power transitions, unique names) are checked against
that copy. So:

- **Writes are serialised across processes.** The engine's lock (:class:`WorldLock`) is
  the process's asyncio lock plus a PostgreSQL session advisory lock held on a
  connection of its own for the whole change (check, mutate, save, drive nodes). A
  process killed with ``kill -9`` loses its connection, and PostgreSQL frees the lock.
- **A writer starts from the latest world.** Each world commit bumps the sequence
  document (``sim.meta/world-sequence``: its store version is the sequence number,
  written with ``expected_version``, so a write past the lock fails instead of
  clobbering) and writes a journal entry (``sim.journal/<sequence>``: the keys it saved
  and removed and the faults it touched) in the same transaction. Right after taking
  the lock a process reads the sequence and applies every entry it has not seen
  (re-reading those documents), so its checks run on exactly what is committed.
- **A whole-world replacement** (``dcsim seed --replace`` on the store of running
  servers, :func:`replacing_world`) holds the lock and bumps the sequence with no
  journal entry: a missing entry makes every process read the whole world again.
- **Readers are fresh.** ``/sim`` reads call :meth:`WorldSync.fresh` (one point read of
  the sequence; a catch-up when it moved); everything else (vendor APIs, metrics) sees
  other processes' writes within :data:`POLL_SECONDS` (plus a read): the store's change
  feed (SPEC-018) reports the sequence document's change, and the world catches up.

On the embedded SQLite store (one process) none of this runs: the lock is the asyncio
lock alone and nothing extra is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import structlog

from dcsim.convert import converter
from dcsim.errors import Conflict, NotFound
from dcsim.sim.faults import Fault
from dcsim.store.base import DocumentSession
from dcsim.store.changes import POLL_SECONDS as FEED_POLL_SECONDS
from dcsim.store.changes import Following, Update

if TYPE_CHECKING:
    from types import TracebackType

    from sqlalchemy.engine import Connection

    from dcsim.sim.core import EngineCore
    from dcsim.sim.world import World
    from dcsim.store.base import Store

log = structlog.get_logger(__name__)

JOURNAL_NAMESPACE = "sim.journal"
SEQUENCE_KEY = "world-sequence"
#: Journal entries kept; a process further behind than this reloads the whole world.
JOURNAL_KEEP = 1000
#: A process more entries behind than this reads the whole world instead of the entries.
CATCH_UP_ENTRIES = 100
#: How often other processes' world writes are looked for (the store's change feed):
#: reads that do not call :meth:`WorldSync.fresh` are at most this (plus a read) behind.
POLL_SECONDS = FEED_POLL_SECONDS
#: The advisory lock's key: 63 bits of a digest of its name, the same in every process.
LOCK_KEY = int.from_bytes(hashlib.blake2b(b"dcsim.sim.world", digest_size=8).digest(), "big") >> 1


def journal_key(sequence: int) -> str:
    """The journal key of ``sequence`` (zero-padded: keys sort as numbers)."""
    return f"{sequence:012d}"


class WorldSync:
    """The cross-process side of one engine: sequence, journal, advisory lock, follower."""

    def __init__(self, engine: EngineCore) -> None:
        self.engine = engine
        #: The sequence number the in-memory world reflects.
        self.applied = 0
        #: Set when a write failed after changing objects in memory: the next catch-up
        #: reloads the whole world from the store.
        self.stale = False
        self._connection: Connection | None = None
        self._following: Following | None = None
        self._moved = False
        self._follower: asyncio.Task[None] | None = None
        self._unlocking: set[asyncio.Future[None]] = set()
        # One thread at a time on the lock's connection (an unlock left running by a
        # cancellation may overlap the next lock; the advisory lock itself is re-entrant).
        self._using = threading.Lock()

    @property
    def shared(self) -> bool:
        """Whether other processes may write the same world (the store is shared)."""
        return self.engine.dcsim.store.shared

    # Start and stop ---------------------------------------------------------------------

    def read_sequence(self) -> int:
        """The committed sequence number (0 before the first journaled write). Blocking."""
        document = self.engine.dcsim.store.find(_meta(), SEQUENCE_KEY)
        return document.version if document is not None else 0

    def start_following(self) -> None:
        """Catch up whenever another process commits a world write (shared stores): the
        store's change feed (``DcSim.changes``, SPEC-018) reports the sequence document's
        change within its poll interval."""
        if self.shared and self._following is None:
            self._following = self.engine.dcsim.changes.follow([_meta()], self._world_moved)

    def _world_moved(self, updates: list[Update]) -> None:
        if not any(update.key == SEQUENCE_KEY for update in updates):
            return
        self._moved = True
        if self._follower is None or self._follower.done():
            self._follower = asyncio.create_task(self._follow(), name="dcsim-world-catch-up")

    async def close(self) -> None:
        """Stop following and give the lock's connection back."""
        if self._following is not None:
            self._following.cancel()
            self._following = None
        if self._follower is not None:
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)
            self._follower = None
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await asyncio.to_thread(connection.close)

    async def _follow(self) -> None:
        # A move reported while catching up is caught up with by the next turn.
        while self._moved:
            self._moved = False
            try:
                await self.fresh()
            except Exception:
                log.exception("sim.world_catch_up_failed")

    # The lock ---------------------------------------------------------------------------

    def _lock_blocking(self) -> None:
        from sqlalchemy import func, select

        store = self.engine.dcsim.store
        with self._using:
            if self._connection is None:
                # AUTOCOMMIT: the lock's connection never holds a transaction (or a snapshot) open.
                self._connection = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")  # type: ignore[attr-defined]
            try:
                self._connection.execute(select(func.pg_advisory_lock(LOCK_KEY)))
            except Exception:
                self._drop_connection()
                raise

    def _unlock_blocking(self) -> None:
        from sqlalchemy import func, select

        with self._using:
            if self._connection is None:
                return
            try:
                self._connection.execute(select(func.pg_advisory_unlock(LOCK_KEY)))
            except Exception:
                # A broken connection released the lock with it.
                self._drop_connection()

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.invalidate()
                connection.close()

    async def lock(self) -> None:
        """Take the cross-process lock, then catch up (shared stores; the caller holds the
        process's asyncio lock)."""
        if not self.shared:
            return
        taking = asyncio.ensure_future(asyncio.to_thread(self._lock_blocking))
        try:
            await asyncio.shield(taking)
        except asyncio.CancelledError:
            # The thread may still get the lock: give it back when it does.
            taking.add_done_callback(self._unlock_if_taken)
            raise
        try:
            await self._catch_up()
        except BaseException:
            await asyncio.to_thread(self._unlock_blocking)
            raise

    def _unlock_if_taken(self, taking: asyncio.Future[None]) -> None:
        if taking.cancelled() or taking.exception() is not None:
            return
        task = asyncio.ensure_future(asyncio.to_thread(self._unlock_blocking))
        self._unlocking.add(task)
        task.add_done_callback(self._unlocking.discard)

    async def unlock(self) -> None:
        """Give the cross-process lock back."""
        if self.shared:
            await asyncio.shield(asyncio.to_thread(self._unlock_blocking))

    async def load(self) -> None:
        """Read the whole world and its faults from the store (the caller holds the lock)."""
        sequence = await asyncio.to_thread(self.read_sequence)
        self._apply(*await asyncio.to_thread(self._read_everything))
        self.applied, self.stale = sequence, False

    # Writing ----------------------------------------------------------------------------

    def record(
        self, session: DocumentSession, saved: Iterable[Any], removed: Iterable[Any], faults: Iterable[Fault]
    ) -> int | None:
        """Journal a world write in ``session`` (the write's transaction): bump the sequence
        and add the entry. Returns the new sequence (None on a store that is not shared)."""
        if not self.shared:
            return None
        world = self.engine.world
        sequence = session.put(_meta(), SEQUENCE_KEY, {"entry": "sim.journal"}, expected_version=self.applied).version
        entry = {
            "saved": [[world.namespace(obj), world.key(obj)] for obj in saved],
            "removed": [[world.namespace(obj), world.key(obj)] for obj in removed],
            "faults": [fault.id for fault in faults],
        }
        session.put(JOURNAL_NAMESPACE, journal_key(sequence), entry)
        if sequence > JOURNAL_KEEP:
            with contextlib.suppress(NotFound):
                session.delete(JOURNAL_NAMESPACE, journal_key(sequence - JOURNAL_KEEP))
        return sequence

    def committed(self, sequence: int | None) -> None:
        """The write journaled as ``sequence`` committed: the world reflects it."""
        if sequence is not None:
            self.applied = sequence

    # Catching up ------------------------------------------------------------------------

    async def fresh(self) -> None:
        """Make the world reflect every committed world write (one point read when it does)."""
        if not self.shared:
            return
        if await asyncio.to_thread(self.read_sequence) <= self.applied and not self.stale:
            return
        async with self.engine._lock.local:
            await self._catch_up()

    async def _catch_up(self) -> None:
        """Apply the journal entries after :attr:`applied` (the caller holds the asyncio lock)."""
        sequence, changes = await asyncio.to_thread(self._read_changes)
        if sequence <= self.applied and not self.stale:
            return
        if changes is None or self.stale:
            log.info("sim.world_reloaded", behind=sequence - self.applied, stale=self.stale)
            changes, whole = await asyncio.to_thread(self._read_everything), True
        else:
            whole = False
        self._apply(*changes)
        self.applied, self.stale = sequence, False
        if whole and self.engine.nodes_ready:
            # Objects no journal entry announced (a replaced world's) have no nodes here yet.
            await self.engine.ensure_nodes()

    def _read_changes(self) -> tuple[int, tuple[dict[tuple[str, str], Any], dict[str, Fault | None]] | None]:
        """The sequence now and the documents behind the entries since :attr:`applied`
        (None when an entry is gone: reload), read in one transaction. Blocking."""
        with self.engine.dcsim.store.transaction() as session:
            found = session.find(_meta(), SEQUENCE_KEY)
            sequence = found.version if found is not None else 0
            if sequence <= self.applied:
                return sequence, ({}, {})
            if sequence - self.applied > CATCH_UP_ENTRIES:
                return sequence, None
            keys: dict[tuple[str, str], None] = {}
            fault_ids: dict[str, None] = {}
            for number in range(self.applied + 1, sequence + 1):
                entry = session.find(JOURNAL_NAMESPACE, journal_key(number))
                if entry is None:
                    return sequence, None
                for namespace, key in entry.value["saved"] + entry.value["removed"]:
                    keys[(namespace, key)] = None
                fault_ids.update(dict.fromkeys(entry.value["faults"]))
            documents = {name: _value(session.find(*name)) for name in keys}
            faults: dict[str, Fault | None] = {}
            for fault_id in fault_ids:
                stored = session.find(_faults(), fault_id)
                if stored is not None:
                    faults[fault_id] = converter.structure(stored.value, Fault)
            return sequence, (documents, faults)

    def _read_everything(self) -> tuple[dict[tuple[str, str], Any], dict[str, Fault | None]]:
        """Every world document and fault as stored, and None for each object and fault
        of this process the store no longer has (a whole-world replacement removed them):
        applied, the world and the faults equal the store's. Blocking."""
        store = self.engine.dcsim.store
        world = self.engine.world
        documents: dict[tuple[str, str], Any] = {}
        for namespace in world.kinds_registry.namespaces():
            documents.update({(namespace, d.key): d.value for d in store.list(namespace)})
        for _, objects in world.kinds():
            for obj in objects:
                documents.setdefault((world.namespace(obj), world.key(obj)), None)
        faults: dict[str, Fault | None] = {d.key: converter.structure(d.value, Fault) for d in store.list(_faults())}
        for fault_id in list(self.engine.faults):
            faults.setdefault(fault_id, None)
        return documents, faults

    def _apply(self, documents: dict[tuple[str, str], Any], faults: dict[str, Fault | None]) -> None:
        """Make the world agree with ``documents`` ((namespace, key) to value, None: gone)
        and the faults with ``faults`` (None: gone)."""
        world = self.engine.world
        registry = world.kinds_registry
        present: list[Any] = []
        for (namespace, key), value in documents.items():
            kind, _, object_id = key.partition("/")
            if kind not in registry or registry.get(kind).namespace != namespace:
                continue
            if value is None:
                world.discard(registry.get(kind).cls, object_id)
            else:
                present.append(converter.structure(value, registry.get(kind).cls))
        # Removals first, then the rest: a name freed and taken again in one catch-up applies.
        _upsert_all(world, present)
        for fault_id, fault in faults.items():
            if fault is None:
                self.engine.fault_gone(fault_id)
            else:
                self.engine.fault_changed(fault_id, fault)


class WorldLock:
    """The engine's lock: ``async with`` takes the process's asyncio lock, then (shared
    store) the cross-process advisory lock, and catches the world up."""

    def __init__(self, sync: WorldSync) -> None:
        self.sync = sync
        #: The process's own lock (held alone by in-process catch-ups).
        self.local = asyncio.Lock()

    def locked(self) -> bool:
        """Whether a change of this process holds the lock."""
        return self.local.locked()

    async def __aenter__(self) -> None:
        await self.local.acquire()
        try:
            await self.sync.lock()
        except BaseException:
            self.local.release()
            raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.sync.unlock()
        finally:
            self.local.release()


@contextlib.contextmanager
def replacing_world(store: Store) -> Iterator[DocumentSession]:
    """A transaction in which a process without an engine (``dcsim seed``) writes a whole
    new world; the caller deletes the old one in it, keeping ``sim.meta/world-sequence``.

    On a shared store the world lock is held meanwhile (running servers' writes wait, then
    start from the new world), and the sequence is bumped with no journal entry of its
    own: every running process finds the entry missing and reads the whole world again.
    On a store that is not shared this is a plain transaction.
    """
    if not store.shared:
        with store.transaction() as session:
            yield session
        return
    from sqlalchemy import func, select

    # The lock on a connection of its own, as engines take it (AUTOCOMMIT: no snapshot held).
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:  # type: ignore[attr-defined]
        connection.execute(select(func.pg_advisory_lock(LOCK_KEY)))
        try:
            with store.transaction() as session:
                yield session
                session.put(_meta(), SEQUENCE_KEY, {"entry": JOURNAL_NAMESPACE})
        finally:
            connection.execute(select(func.pg_advisory_unlock(LOCK_KEY)))


def _upsert_all(world: World, objects: list[Any]) -> None:
    """Upsert ``objects`` into ``world`` whatever their order: an object whose new name
    another one still holds (renamed by the same catch-up) is retried after the others."""
    pending = objects
    while pending:
        clashing = []
        for obj in pending:
            try:
                world.upsert(obj)
            except Conflict:
                clashing.append(obj)
        if len(clashing) == len(pending):
            break
        pending = clashing
    if not pending:
        return
    # Names swapped among these objects (a cycle no order resolves): they are held anew,
    # each as stored (references to the old objects of these few are no longer the world's).
    for obj in pending:
        world.discard(type(obj), obj.id)
    for obj in pending:
        try:
            world.add(obj)
        except Conflict:
            log.warning("sim.world_name_clash", kind=world.kind_of(obj), id=obj.id, name=obj.name)


def _value(document: Any) -> Any:
    return document.value if document is not None else None


def _meta() -> str:
    from dcsim.sim.core import META_NAMESPACE

    return META_NAMESPACE


def _faults() -> str:
    from dcsim.sim.core import FAULTS_NAMESPACE

    return FAULTS_NAMESPACE


__all__ = [
    "JOURNAL_NAMESPACE",
    "POLL_SECONDS",
    "SEQUENCE_KEY",
    "WorldLock",
    "WorldSync",
    "journal_key",
    "replacing_world",
]
