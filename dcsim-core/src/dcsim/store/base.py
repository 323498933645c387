"""The contract of the store (``dcsim.store`` stevedore namespace).

The store keeps API tokens (hashed), JSON documents in namespaces with an
optimistic-lock version, the outbox of events waiting for the bus (written in the
transaction of the change that caused them), the relay's lease and the responses of
creates sent with an ``Idempotency-Key``; business modules add their own tables through Alembic
migrations in ``dcsim/store/migrations``. The contract suite in ``tests/store`` runs
against SQLite and PostgreSQL.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dcsim.model import Document, Event, Role, Token, new_id

if TYPE_CHECKING:
    from dcsim.settings import Settings
    from dcsim.store.changelog import ChangePosition, ChangeRow
    from dcsim.store.outbox import OutboxEntry, StoredResponse


class DocumentSession(abc.ABC):
    """Document operations; inside ``Store.transaction()`` they commit all or nothing."""

    @abc.abstractmethod
    def get(self, namespace: str, key: str) -> Document:
        """Return the document; raise :class:`dcsim.errors.NotFound` if it does not exist."""

    @abc.abstractmethod
    def find(self, namespace: str, key: str) -> Document | None:
        """Return the document, or None if it does not exist."""

    @abc.abstractmethod
    def put(self, namespace: str, key: str, value: dict[str, Any], expected_version: int | None = None) -> Document:
        """Create or replace a document and return it with its new version.

        ``expected_version`` None writes unconditionally; 0 requires that the document
        does not exist; n requires its current version to be n. A mismatch raises
        :class:`dcsim.errors.Conflict`. Versions start at 1 and grow by 1 per write.
        """

    def put_many(self, namespace: str, values: Mapping[str, dict[str, Any]]) -> int:
        """Create or replace many documents of ``namespace`` (key to value), unconditionally.

        For bulk writes (a seed, a CMDB bootstrap): drivers send them as one batch.
        Versions grow as ``put`` makes them grow; invalid keys or values refuse the whole
        call. Returns how many documents were written.
        """
        for key, value in values.items():
            self.put(namespace, key, value)
        return len(values)

    @abc.abstractmethod
    def delete(self, namespace: str, key: str, expected_version: int | None = None) -> None:
        """Delete a document; NotFound if absent, Conflict on a version mismatch."""

    @abc.abstractmethod
    def list(self, namespace: str, prefix: str = "", limit: int | None = None, offset: int = 0) -> list[Document]:
        """Documents of ``namespace`` whose key starts with ``prefix``, ordered by key."""

    @abc.abstractmethod
    def count(self, namespace: str, prefix: str = "") -> int:
        """How many documents ``list`` would return without a limit."""

    @abc.abstractmethod
    def add_event(self, event: Event) -> None:
        """Put ``event`` in the outbox: inside ``Store.transaction()`` it is committed with
        the session's other writes, or not at all. The relay publishes it afterwards."""


class Store(DocumentSession):
    """Base class of store drivers; a driver class is constructed with the settings.

    Document methods called on the store itself run in a transaction of their own.
    """

    name: str = "abstract"
    #: Whether other processes can open the same database (PostgreSQL: yes, SQLite: no).
    shared: bool = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        #: Names this store object in the change log, so a reader skips its own writes.
        self.origin = new_id()
        #: Whether committed document writes are added to the change log
        #: (``dcsim.store.changes``); on by default when the store is :attr:`shared`.
        self.record_changes = self.shared

    def changes_start(self) -> ChangePosition:
        """The change-log position of a reader starting now (see ``dcsim.store.changelog``)."""
        raise NotImplementedError(f"the {self.name} store keeps no change log")

    def changes_read(self, position: ChangePosition) -> tuple[builtins.list[ChangeRow], ChangePosition, bool]:
        """Committed changes after ``position``, the next position, and whether more wait."""
        raise NotImplementedError(f"the {self.name} store keeps no change log")

    def changes_prune(self, older_than: datetime) -> int:
        """Delete change-log rows committed before ``older_than``; return how many."""
        raise NotImplementedError(f"the {self.name} store keeps no change log")

    def find_many(self, namespace: str, keys: builtins.list[str]) -> dict[str, Document]:
        """The documents of ``namespace`` among ``keys`` that exist, by key."""
        found = {key: self.find(namespace, key) for key in keys}
        return {key: document for key, document in found.items() if document is not None}

    @abc.abstractmethod
    def upgrade(self, progress: Callable[[str], None] | None = None) -> list[str]:
        """Apply pending migrations; return the revisions applied (empty when current).

        ``progress`` is called with a line of text per migration applied.
        """

    @abc.abstractmethod
    def current_revision(self) -> str | None:
        """The revision the database is at, None before the first migration."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Return when the database answers; raise :class:`dcsim.errors.Unavailable` if not."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[DocumentSession]:
        """A session whose writes commit together at the end of the ``with`` block,
        or not at all if the block raises."""

    @abc.abstractmethod
    def on_events_added(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from whichever thread committed) after every commit of this
        store object that added outbox events; the relay uses it to wake up."""

    @abc.abstractmethod
    def outbox_pending(self, limit: int) -> builtins.list[OutboxEntry]:
        """The oldest ``limit`` events not sent yet, in outbox order (commit order within
        one transaction; ``id`` order across transactions)."""

    @abc.abstractmethod
    def outbox_count(self) -> int:
        """How many events wait in the outbox."""

    @abc.abstractmethod
    def outbox_mark_sent(self, ids: builtins.list[int]) -> None:
        """Record that the bus took the outbox entries ``ids``."""

    @abc.abstractmethod
    def outbox_prune(self, older_than: datetime) -> int:
        """Delete entries sent before ``older_than``; return how many."""

    @abc.abstractmethod
    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Hold lease ``name`` for ``seconds`` if it is free, expired or ``holder``'s already;
        True when ``holder`` has it now. Several processes on one database agree on one holder."""

    @abc.abstractmethod
    def drop_lease(self, name: str, holder: str) -> None:
        """Give lease ``name`` up if ``holder`` has it."""

    @abc.abstractmethod
    def idempotency_reserve(self, key: str, fingerprint: str, expired_before: datetime) -> StoredResponse | None:
        """Reserve ``key`` for a first request (None), or return what is stored for it.

        An entry created before ``expired_before`` has expired and is replaced.
        """

    @abc.abstractmethod
    def idempotency_record(self, key: str, status: int, headers: builtins.list[tuple[str, str]], body: bytes) -> None:
        """Store the response to the first request with ``key`` (status, headers, body)."""

    @abc.abstractmethod
    def idempotency_release(self, key: str) -> None:
        """Forget ``key``: its first request failed, a retry may run it again."""

    @abc.abstractmethod
    def idempotency_prune(self, older_than: datetime) -> int:
        """Delete keys created before ``older_than``; return how many."""

    @abc.abstractmethod
    def create_token(self, name: str, role: Role) -> tuple[Token, str]:
        """Create a token; return it and its secret, which is shown only this once."""

    @abc.abstractmethod
    def verify_token(self, secret: str) -> Token | None:
        """The token with this secret, if it exists and is not revoked."""

    @abc.abstractmethod
    def list_tokens(self) -> list[Token]:
        """Every token, revoked ones included, oldest first."""

    @abc.abstractmethod
    def revoke_token(self, token_id: str) -> None:
        """Revoke a token; NotFound if there is no such token."""
