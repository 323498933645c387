"""The contract of CMDB backends (``dcsim.cmdb`` stevedore namespace, ``cmdb_backend``).

A backend stores CIs, relationships and their history. Sync, impact analysis, the
Ansible inventory and the ``/cmdb`` API are written once against this contract; the
contract suite in ``tests/cmdb`` runs against every backend.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import attrs

from dcsim.cmdb.model import Ci, HistoryEntry, Relationship

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.model import Event
    from dcsim.settings import Settings
    from dcsim.store.base import Store


@attrs.frozen(kw_only=True)
class CiQuery:
    """Filters of a CI listing; every filter given must match."""

    type: str | None = None
    platform: str | None = None
    #: ``key=value`` of one tag.
    tag: str | None = None
    #: Case-insensitive text in the name.
    q: str | None = None
    #: None lists active CIs only; ``"all"`` lists decommissioned ones too.
    status: str | None = None
    limit: int = 100
    offset: int = 0

    def matches(self, ci: Ci) -> bool:
        """True when ``ci`` passes every filter (paging aside)."""
        if self.status != "all" and ci.status.value != (self.status or "active"):
            return False
        if self.type and ci.type != self.type:
            return False
        if self.platform and ci.tags.get("platform") != self.platform:
            return False
        if self.tag:
            key, _, value = self.tag.partition("=")
            if ci.tags.get(key) != value:
                return False
        return not (self.q and self.q.lower() not in ci.name.lower())


class CmdbBackend(abc.ABC):
    """Base class of CMDB backends; a backend class is constructed with the settings."""

    name: str = "abstract"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abc.abstractmethod
    async def start(self, dcsim: DcSim) -> None:
        """Connect and prepare (load indexes, bootstrap remote fields)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Return when the backend answers; raise :class:`dcsim.errors.Unavailable` if not."""

    @abc.abstractmethod
    async def list_cis(self, query: CiQuery) -> tuple[int, list[Ci]]:
        """(total matching, one page of CIs ordered by type then name)."""

    @abc.abstractmethod
    async def get_ci(self, ci_id: str) -> Ci:
        """One CI by id; NotFound otherwise."""

    @abc.abstractmethod
    async def find_by_source(self, source_id: str) -> Ci | None:
        """The CI mirroring the simulated object ``source_id``, decommissioned ones included."""

    @abc.abstractmethod
    async def create_ci(self, ci: Ci, actor: str) -> Ci:
        """Store a new CI and a ``created`` history entry; return it as stored."""

    @abc.abstractmethod
    async def update_ci(self, ci_id: str, changes: dict[str, Any], actor: str) -> Ci:
        """Apply ``changes`` (any of name, attributes, tags, status) and record history.

        ``attributes`` and ``tags`` replace the whole mapping. Unchanged values record
        nothing and return the CI as it is.
        """

    @abc.abstractmethod
    async def relationships(self, ci_id: str | None = None) -> list[Relationship]:
        """Relationships touching ``ci_id`` (either end), or all of them for None."""

    @abc.abstractmethod
    async def add_relationship(self, relationship: Relationship, actor: str) -> Relationship:
        """Store a relationship; both CIs must exist; a duplicate is a Conflict."""

    @abc.abstractmethod
    async def remove_relationship(self, relationship_id: str, actor: str) -> None:
        """Delete a relationship; NotFound if absent."""

    @abc.abstractmethod
    async def history(self, ci_id: str) -> list[HistoryEntry]:
        """Changes to a CI, oldest first."""

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Group the writes of a block (a full sync) so the backend may commit them at once.

        Reads inside the block see the block's writes. The default writes as it goes.
        """
        yield

    async def add_event(self, store: Store, event: Event) -> None:
        """Put ``event`` (caused by a write of this backend) in ``store``'s outbox.

        A backend that keeps its records in ``store`` commits it with the writes of the
        current :meth:`batch`, so the change and its event exist together; the default
        commits it on its own at once (a remote CMDB has no transaction to share).
        """
        await asyncio.to_thread(store.add_event, event)
