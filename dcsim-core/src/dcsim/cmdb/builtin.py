"""The ``builtin`` CMDB backend: CIs, relationships and history in dc-sim's own store.

Every record is a store document (namespaces ``cmdb.ci``, ``cmdb.rel``,
``cmdb.history``); an in-memory index, loaded at start and written through, answers
queries, so listing and impact analysis do not scan the database. CIs and relationships
other processes write reach the index through the change feed (``dcsim.store.changes``);
a get of a CI the index does not hold reads the store first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from dcsim.cmdb.backend import CiQuery, CmdbBackend
from dcsim.cmdb.model import TAG_KEYS, Ci, CiStatus, HistoryEntry, Relationship
from dcsim.convert import converter, to_json
from dcsim.errors import Conflict, InvalidInput, NotFound
from dcsim.model import Event, utcnow

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.store.base import DocumentSession, Store
    from dcsim.store.changes import Update

CI_NAMESPACE = "cmdb.ci"
REL_NAMESPACE = "cmdb.rel"
HISTORY_NAMESPACE = "cmdb.history"
_EDITABLE = ("name", "attributes", "tags", "status")


def check_tags(tags: dict[str, str]) -> None:
    """Refuse tag keys outside :data:`TAG_KEYS` and non-text values."""
    unknown = sorted(set(tags) - set(TAG_KEYS))
    if unknown:
        raise InvalidInput(f"unknown tag keys {unknown}; known: {', '.join(TAG_KEYS)}")
    if not all(isinstance(v, str) for v in tags.values()):
        raise InvalidInput("tag values must be text")


class BuiltinCmdb(CmdbBackend):
    """CMDB records in the dc-sim store."""

    name = "builtin"

    async def start(self, dcsim: DcSim) -> None:
        self._store: Store = dcsim.store
        self._cis: dict[str, Ci] = {}
        self._by_source: dict[str, str] = {}
        self._rels: dict[str, Relationship] = {}
        self._rel_keys: set[tuple[str, str, str]] = set()
        self._pending: _Writes | None = None
        self._lock = asyncio.Lock()
        self._shared = dcsim.changes.active
        # Before the read: a write committed meanwhile is applied again, never missed.
        dcsim.changes.follow([CI_NAMESPACE, REL_NAMESPACE], self._apply)
        await self._load()

    def _apply(self, updates: list[Update]) -> None:
        """Take the CIs and relationships other processes wrote (the change feed's callback)."""
        for update in updates:
            if update.namespace == CI_NAMESPACE and update.document is not None:
                ci = converter.structure(update.document.value, Ci)
                held = self._cis.get(ci.id)
                # Writes are unconditional bulk upserts: the newer edit wins, never an older copy.
                if held is None or ci.updated_at >= held.updated_at:
                    self._index(ci)
            elif update.namespace == REL_NAMESPACE:
                old = self._rels.pop(update.key, None)
                if old is not None:
                    self._rel_keys.discard(_key(old))
                if update.document is not None:
                    rel = converter.structure(update.document.value, Relationship)
                    self._rels[rel.id] = rel
                    self._rel_keys.add(_key(rel))

    async def _load(self) -> None:
        """Index what the store holds (at start, and after a batch that failed to commit)."""
        self._cis, self._by_source, self._rels, self._rel_keys = {}, {}, {}, set()
        for doc in await asyncio.to_thread(self._store.list, CI_NAMESPACE):
            self._index(converter.structure(doc.value, Ci))
        for doc in await asyncio.to_thread(self._store.list, REL_NAMESPACE):
            rel = converter.structure(doc.value, Relationship)
            self._rels[rel.id] = rel
            self._rel_keys.add(_key(rel))

    async def close(self) -> None:
        """Nothing to release: the store belongs to the instance."""

    async def ping(self) -> None:
        await asyncio.to_thread(self._store.ping)

    async def list_cis(self, query: CiQuery) -> tuple[int, list[Ci]]:
        matching = sorted((ci for ci in self._cis.values() if query.matches(ci)), key=lambda ci: (ci.type, ci.name))
        return len(matching), matching[query.offset : query.offset + query.limit]

    async def get_ci(self, ci_id: str) -> Ci:
        if ci_id not in self._cis and self._shared:
            # Made by another process within the feed's staleness bound, or not at all.
            doc = await asyncio.to_thread(self._store.find, CI_NAMESPACE, ci_id)
            if doc is not None:
                self._index(converter.structure(doc.value, Ci))
        try:
            return self._cis[ci_id]
        except KeyError:
            raise NotFound(f"no CI {ci_id!r}") from None

    async def find_by_source(self, source_id: str) -> Ci | None:
        ci_id = self._by_source.get(source_id)
        return self._cis[ci_id] if ci_id else None

    async def create_ci(self, ci: Ci, actor: str) -> Ci:
        check_tags(ci.tags)
        async with self._lock:
            if ci.id in self._cis:
                raise Conflict(f"CI {ci.id} already exists")
            if ci.source_id and ci.source_id in self._by_source:
                raise Conflict(f"a CI already mirrors {ci.source_id}")
            entry = HistoryEntry(ci_id=ci.id, actor=actor, action="created", after=to_json(ci))
            await self._write(cis=[ci], history=[entry])
            self._index(ci)
            return ci

    async def update_ci(self, ci_id: str, changes: dict[str, Any], actor: str) -> Ci:
        unknown = sorted(set(changes) - set(_EDITABLE))
        if unknown:
            raise InvalidInput(f"cannot change {unknown}; editable: {', '.join(_EDITABLE)}")
        if "tags" in changes:
            check_tags(changes["tags"])
        async with self._lock:
            ci = await self.get_ci(ci_id)
            before = to_json(ci)
            updated = converter.structure({**before, **to_json(changes), "updated_at": utcnow().isoformat()}, Ci)
            after = to_json(updated)
            if {k: before[k] for k in _EDITABLE} == {k: after[k] for k in _EDITABLE}:
                return ci
            action = "decommissioned" if updated.status is CiStatus.DECOMMISSIONED else "updated"
            if ci.status is CiStatus.DECOMMISSIONED and updated.status is CiStatus.ACTIVE:
                action = "recommissioned"
            changed = {k: before[k] for k in _EDITABLE if before[k] != after[k]}
            entry = HistoryEntry(
                ci_id=ci.id, actor=actor, action=action, before=changed, after={k: after[k] for k in changed}
            )
            await self._write(cis=[updated], history=[entry])
            self._index(updated)
            return updated

    async def relationships(self, ci_id: str | None = None) -> list[Relationship]:
        rels = self._rels.values()
        if ci_id is None:
            return list(rels)
        return [r for r in rels if ci_id in (r.source_id, r.target_id)]

    async def add_relationship(self, relationship: Relationship, actor: str) -> Relationship:
        async with self._lock:
            for end in (relationship.source_id, relationship.target_id):
                if end not in self._cis:
                    raise NotFound(f"no CI {end!r}")
            if _key(relationship) in self._rel_keys:
                raise Conflict("that relationship already exists")
            entries = [
                HistoryEntry(ci_id=ci_id, actor=actor, action="relationship_added", after=to_json(relationship))
                for ci_id in (relationship.source_id, relationship.target_id)
            ]
            await self._write(rels=[relationship], history=entries)
            self._rels[relationship.id] = relationship
            self._rel_keys.add(_key(relationship))
            return relationship

    async def remove_relationship(self, relationship_id: str, actor: str) -> None:
        async with self._lock:
            relationship = self._rels.get(relationship_id)
            if relationship is None:
                raise NotFound(f"no relationship {relationship_id!r}")
            entries = [
                HistoryEntry(ci_id=ci_id, actor=actor, action="relationship_removed", before=to_json(relationship))
                for ci_id in (relationship.source_id, relationship.target_id)
                if ci_id in self._cis
            ]
            await self._write(removed_rels=[relationship], history=entries)
            del self._rels[relationship_id]
            self._rel_keys.discard(_key(relationship))

    async def history(self, ci_id: str) -> list[HistoryEntry]:
        await self.get_ci(ci_id)
        documents = await asyncio.to_thread(self._store.list, HISTORY_NAMESPACE, f"{ci_id}/")
        return [converter.structure(doc.value, HistoryEntry) for doc in documents]

    def _index(self, ci: Ci) -> None:
        self._cis[ci.id] = ci
        if ci.source_id:
            self._by_source[ci.source_id] = ci.id

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Collect the block's writes and commit them at its end: one transaction, and
        one bulk write per namespace (a bootstrap writes a hundred thousand records)."""
        if self._pending is not None:  # already batching: the outer block commits
            yield
            return
        writes = self._pending = _Writes()
        try:
            try:
                yield
            finally:
                self._pending = None
            await asyncio.to_thread(self._commit, writes)
        except BaseException:
            # The block's writes are indexed in memory as they are made (its later writes
            # read them), so they show a moment before the commit; when the block or the
            # commit fails, the index is rebuilt from the store: nothing uncommitted stays.
            await self._load()
            raise

    async def add_event(self, store: Store, event: Event) -> None:
        """Commit ``event`` with the current batch's writes (this backend writes to the store)."""
        if self._pending is not None and store is self._store:
            self._pending.events.append(event)
        else:
            await super().add_event(store, event)

    async def _write(
        self,
        *,
        cis: Sequence[Ci] = (),
        rels: Sequence[Relationship] = (),
        removed_rels: Sequence[Relationship] = (),
        history: Sequence[HistoryEntry] = (),
    ) -> None:
        writes = self._pending if self._pending is not None else _Writes()
        writes.add(cis, rels, removed_rels, history)
        if self._pending is None:
            await asyncio.to_thread(self._commit, writes)

    def _commit(self, writes: _Writes) -> None:
        with self._store.transaction() as session:
            writes.write(session)


class _Writes:
    """Records to write in one transaction, the last version of each."""

    def __init__(self) -> None:
        self.cis: dict[str, Ci] = {}
        self.rels: dict[str, Relationship] = {}
        self.removed: set[str] = set()
        self.history: list[HistoryEntry] = []
        #: Outbox events of the batch, committed with its records.
        self.events: list[Event] = []

    def add(
        self,
        cis: Sequence[Ci],
        rels: Sequence[Relationship],
        removed_rels: Sequence[Relationship],
        history: Sequence[HistoryEntry],
    ) -> None:
        self.cis.update((ci.id, ci) for ci in cis)
        for rel in rels:
            self.rels[rel.id] = rel
            self.removed.discard(rel.id)
        for rel in removed_rels:
            self.rels.pop(rel.id, None)
            self.removed.add(rel.id)
        self.history.extend(history)

    def write(self, session: DocumentSession) -> None:
        session.put_many(CI_NAMESPACE, {ci.id: converter.unstructure(ci) for ci in self.cis.values()})
        session.put_many(REL_NAMESPACE, {rel.id: converter.unstructure(rel) for rel in self.rels.values()})
        for rel_id in sorted(self.removed):
            # A relationship made and removed within one batch was never written.
            if session.find(REL_NAMESPACE, rel_id) is not None:
                session.delete(REL_NAMESPACE, rel_id)
        # Keys sort by time within a CI, so a prefix listing is the history in order.
        session.put_many(HISTORY_NAMESPACE, {
            f"{entry.ci_id}/{entry.at.isoformat()}/{entry.id}": converter.unstructure(entry) for entry in self.history
        })  # fmt: skip
        for event in self.events:
            session.add_event(event)


def _key(relationship: Relationship) -> tuple[str, str, str]:
    return (relationship.type, relationship.source_id, relationship.target_id)
