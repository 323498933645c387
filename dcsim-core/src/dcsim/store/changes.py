"""In-memory indexes over store namespaces, kept fresh across processes.

Several dc-sim processes on one database each keep indexes in memory (ITSM record books,
the CMDB's items, drift findings, the world) that they write through to the store. Every
committed document write (``put``, ``put_many``, ``delete``) also adds a row to the
store's change log, in the same transaction (``dcsim.store.changelog``). A
:class:`ChangeFeed` per process reads that log every :attr:`ChangeFeed.interval`
seconds and hands each index the current documents behind the changes other processes
made, so a write through one process shows in every other within the staleness bound
(SPEC-018): the poll interval plus the time of the read.

An index follows its namespaces::

    feed.follow(["itsm.incident"], book.apply)  # before loading: nothing is missed
    await book.load(store)

``apply`` receives a list of :class:`Update`: the namespace, key and the document as
stored now, or None when it no longer exists; it runs in the event loop, between the
index's own awaits, so it needs no lock of its own. An index that keeps versions should
ignore a document no newer than the one it holds. Reads that must be exact (a GET by key
that misses the index) read the store before answering 404: :attr:`ChangeFeed.active`
says whether other processes may have written what the index has not seen yet.

On the embedded SQLite store (one process) nothing is recorded and the feed does not
run: it costs nothing. Tests turn it on for SQLite with ``store.record_changes = True``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from datetime import timedelta

import attrs
import structlog

from dcsim.errors import Unavailable
from dcsim.model import Document, utcnow
from dcsim.store.base import Store
from dcsim.store.changelog import ChangePosition

log = structlog.get_logger(__name__)

#: Seconds between two reads of the change log.
POLL_SECONDS = 0.25
#: Change-log rows older than this are deleted (a process that fell this far behind
#: would miss changes; a live feed is never more than a poll behind).
RETENTION_SECONDS = 600.0
_MAX_BACKOFF_SECONDS = 5.0


@attrs.frozen
class Update:
    """A document another process wrote: as stored now, or None when it is gone."""

    namespace: str
    key: str
    document: Document | None


Callback = Callable[[list[Update]], None]


@attrs.define(eq=False)
class Following:
    """One index's registration with a :class:`ChangeFeed`; :meth:`cancel` ends it."""

    namespaces: frozenset[str]
    callback: Callback
    own_writes: bool
    _feed: ChangeFeed

    def cancel(self) -> None:
        """Stop calling the callback."""
        self._feed._drop(self)


class ChangeFeed:
    """Reads the store's change log and calls the indexes that follow the changed namespaces.

    One per process (``DcSim.changes``); :meth:`start` before the indexes load.
    """

    def __init__(self, store: Store, interval: float = POLL_SECONDS) -> None:
        self.store = store
        #: Seconds between reads of the change log.
        self.interval = interval
        self._followings: list[Following] = []
        self._position: ChangePosition | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._pruned_at = utcnow()

    @property
    def active(self) -> bool:
        """Whether writes may come from other processes (the store records changes)."""
        return self.store.record_changes

    def follow(self, namespaces: Iterable[str], callback: Callback, own_writes: bool = False) -> Following:
        """Call ``callback`` with the updates of ``namespaces`` that other processes commit
        (and this process's own when ``own_writes``: for indexes that other code in the
        process writes past). Register before loading the index."""
        following = Following(frozenset(namespaces), callback, own_writes, self)
        self._followings.append(following)
        return following

    def _drop(self, following: Following) -> None:
        with contextlib.suppress(ValueError):
            self._followings.remove(following)

    async def start(self) -> None:
        """Take the current position of the change log and read it in the background
        (no-op when the feed is not :attr:`active`)."""
        if not self.active or self._task is not None:
            return
        self._position = await asyncio.to_thread(self.store.changes_start)
        self._task = asyncio.create_task(self._run(), name="dcsim-change-feed")

    async def stop(self) -> None:
        """Stop reading and forget the followers (a restarted instance's indexes follow again)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._followings.clear()
        self._position = None

    async def catch_up(self) -> int:
        """Read every change committed so far now and deliver it; return how many
        updates were delivered (0 when the feed is not started)."""
        delivered = 0
        async with self._lock:
            if self._position is None:
                return 0
            position: ChangePosition = self._position
            more = True
            while more:
                rows, position, more = await asyncio.to_thread(self.store.changes_read, position)
                self._position = position
                followings = list(self._followings)
                wants: dict[int, dict[tuple[str, str], None]] = {}
                for row in rows:
                    for index, following in enumerate(followings):
                        if row.namespace in following.namespaces and (
                            following.own_writes or row.origin != self.store.origin
                        ):
                            wants.setdefault(index, {})[(row.namespace, row.key)] = None
                if not wants:
                    continue
                wanted = {name for keys in wants.values() for name in keys}
                found = await asyncio.to_thread(self._fetch, wanted)
                for index, keys in wants.items():
                    delivered += self._deliver(followings[index], [found[name] for name in keys])
        return delivered

    def _fetch(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Update]:
        by_namespace: dict[str, list[str]] = {}
        for namespace, key in sorted(wanted):
            by_namespace.setdefault(namespace, []).append(key)
        found: dict[tuple[str, str], Update] = {}
        for namespace, keys in by_namespace.items():
            documents = self.store.find_many(namespace, keys)
            found.update({(namespace, key): Update(namespace, key, documents.get(key)) for key in keys})
        return found

    @staticmethod
    def _deliver(following: Following, updates: list[Update]) -> int:
        try:
            following.callback(updates)
        except Exception:
            log.exception("store.change_callback_failed", namespaces=sorted(following.namespaces))
        return len(updates)

    async def _run(self) -> None:
        wait = self.interval
        while True:
            await asyncio.sleep(wait)
            try:
                await self.catch_up()
                wait = self.interval
                if utcnow() - self._pruned_at > timedelta(seconds=RETENTION_SECONDS / 4):
                    self._pruned_at = utcnow()
                    cutoff = utcnow() - timedelta(seconds=RETENTION_SECONDS)
                    await asyncio.to_thread(self.store.changes_prune, cutoff)
            except Unavailable as exc:
                wait = min(max(wait * 2, 0.5), _MAX_BACKOFF_SECONDS)
                log.warning("store.change_feed_unavailable", error=str(exc), retry_seconds=wait)
            except Exception:
                wait = min(max(wait * 2, 0.5), _MAX_BACKOFF_SECONDS)
                log.exception("store.change_feed_failed")
