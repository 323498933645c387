"""The ``sqlalchemy`` store driver: SQLite for the embedded mode, PostgreSQL when shared.

One synchronous SQLAlchemy 2 engine per store; the web layer calls it from worker
threads. The schema is owned by the Alembic migrations in ``dcsim/store/migrations``;
the tables are in :mod:`dcsim.store.tables`, the engine and error translation in
:mod:`dcsim.store.engine`, document operations in :mod:`dcsim.store.documents`.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import alembic.command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from dcsim.errors import NotFound
from dcsim.model import Document, Event, Role, Token, new_id, utcnow
from dcsim.settings import Settings
from dcsim.store import changelog, outbox
from dcsim.store.base import DocumentSession, Store
from dcsim.store.documents import SqlDocumentSession
from dcsim.store.engine import create_store_engine, normalize_url, translate_errors
from dcsim.store.tables import token_of, tokens_table

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
TOKEN_PREFIX = "dcsim_"

# Any fixed 64-bit number works: it only has to be the same in every dc-sim process.
_MIGRATION_LOCK_KEY = 0x64637369_6D000001


def hash_secret(secret: str) -> str:
    """The stored form of a token secret.

    A fast unsalted hash is enough here: the secret is 256 random bits, not a password a
    person chose, so there is nothing to brute-force or look up in a table. It also lets
    ``verify_token`` find the token by an indexed equality lookup.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


class SqlStore(Store):
    """Tokens and JSON documents in SQLite or PostgreSQL through SQLAlchemy 2.

    The database is ``settings.effective_database_url``: ``sqlite:///path`` (the
    parent directory is created), or ``postgresql+psycopg://...`` (``postgresql://``
    and ``postgres://`` are accepted and use psycopg). Call :meth:`upgrade` before use.
    """

    name = "sqlalchemy"

    def __init__(self, settings: Settings) -> None:
        url = normalize_url(settings.effective_database_url)
        self.shared = url.get_backend_name() != "sqlite"
        super().__init__(settings)
        self.url = url
        self.engine = create_store_engine(self.url)
        # Sessions that may write (see transaction()); the option matters to SQLite only.
        self._writer = self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        self._event_listeners: list[Callable[[], None]] = []

    def upgrade(self, progress: Callable[[str], None] | None = None) -> list[str]:
        """Apply pending Alembic migrations in one transaction; return their revisions.

        On PostgreSQL a transaction-level advisory lock makes concurrent upgrades from
        several processes wait for each other; the later ones then find nothing to do.
        """
        applied: list[str] = []

        def on_version_apply(*, step: MigrationInfo, **_: Any) -> None:
            if step.is_upgrade and step.up_revision_id is not None:
                applied.append(step.up_revision_id)
                if progress is not None:
                    # up_revision is an alembic Script, which carries the docstring's first line.
                    doc = getattr(step.up_revision, "doc", "")
                    progress(f"applied migration {step.up_revision_id}: {doc}")

        with translate_errors(self.url), self.engine.connect() as connection:
            # On SQLite, BEGIN IMMEDIATE takes the write lock up front, so a second process
            # waits instead of failing when both read the version table first.
            connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
                config = alembic_config(connection)
                config.attributes["on_version_apply"] = on_version_apply
                alembic.command.upgrade(config, "head")
        return applied

    def current_revision(self) -> str | None:
        """The Alembic revision of the database, None before the first migration."""
        with translate_errors(self.url), self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def ping(self) -> None:
        """Run ``SELECT 1``; raise Unavailable when the database does not answer."""
        with translate_errors(self.url), self.engine.connect() as connection:
            connection.execute(select(1))

    def close(self) -> None:
        """Close every pooled connection; the store reconnects if used again."""
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[DocumentSession]:
        """A document session on one database transaction, committed when the block ends.

        On SQLite it begins IMMEDIATE: a transaction that reads and then writes would
        otherwise fail at once with "database is locked" when another connection wrote
        in between (SQLite cannot upgrade a stale read snapshot, and skips the busy
        timeout for it). Writers queue on the lock instead.
        """
        with translate_errors(self.url), Session(self._writer) as session:
            with session.begin():
                documents = SqlDocumentSession(session, self.url)
                yield documents
                if self.record_changes and documents.changed:
                    with translate_errors(self.url):
                        changelog.record(session.connection(), documents.changed, self.origin)
            if documents.events_added:
                self._events_added()

    def _events_added(self) -> None:
        for callback in builtins.list(self._event_listeners):
            callback()

    def on_events_added(self, callback: Callable[[], None]) -> None:
        """See :meth:`Store.on_events_added`."""
        self._event_listeners.append(callback)

    def add_event(self, event: Event) -> None:
        """See :meth:`DocumentSession.add_event`; commits in a transaction of its own."""
        with self.transaction() as session:
            session.add_event(event)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        with translate_errors(self.url), self._writer.begin() as connection:
            yield connection

    def outbox_pending(self, limit: int) -> builtins.list[outbox.OutboxEntry]:
        """See :meth:`Store.outbox_pending`."""
        with translate_errors(self.url), self.engine.connect() as connection:
            return outbox.pending(connection, limit)

    def outbox_count(self) -> int:
        """See :meth:`Store.outbox_count`."""
        with translate_errors(self.url), self.engine.connect() as connection:
            return outbox.count_pending(connection)

    def outbox_mark_sent(self, ids: builtins.list[int]) -> None:
        """See :meth:`Store.outbox_mark_sent`."""
        with self._connection() as connection:
            outbox.mark_sent(connection, ids)

    def outbox_prune(self, older_than: datetime) -> int:
        """See :meth:`Store.outbox_prune`."""
        with self._connection() as connection:
            return outbox.prune_sent(connection, older_than)

    def take_lease(self, name: str, holder: str, seconds: float) -> bool:
        """See :meth:`Store.take_lease`."""
        with self._connection() as connection:
            return outbox.take_lease(connection, name, holder, seconds)

    def drop_lease(self, name: str, holder: str) -> None:
        """See :meth:`Store.drop_lease`."""
        with self._connection() as connection:
            outbox.drop_lease(connection, name, holder)

    def idempotency_reserve(self, key: str, fingerprint: str, expired_before: datetime) -> outbox.StoredResponse | None:
        """See :meth:`Store.idempotency_reserve`."""
        with self._connection() as connection:
            return outbox.reserve(connection, key, fingerprint, expired_before)

    def idempotency_record(self, key: str, status: int, headers: builtins.list[tuple[str, str]], body: bytes) -> None:
        """See :meth:`Store.idempotency_record`."""
        with self._connection() as connection:
            outbox.record(connection, key, status, headers, body)

    def idempotency_release(self, key: str) -> None:
        """See :meth:`Store.idempotency_release`."""
        with self._connection() as connection:
            outbox.release(connection, key)

    def idempotency_prune(self, older_than: datetime) -> int:
        """See :meth:`Store.idempotency_prune`."""
        with self._connection() as connection:
            return outbox.prune_keys(connection, older_than)

    def changes_start(self) -> changelog.ChangePosition:
        """See :meth:`Store.changes_start`."""
        with translate_errors(self.url), self.engine.connect() as connection:
            return changelog.start_position(connection)

    def changes_read(
        self, position: changelog.ChangePosition
    ) -> tuple[builtins.list[changelog.ChangeRow], changelog.ChangePosition, bool]:
        """See :meth:`Store.changes_read`."""
        with translate_errors(self.url), self.engine.connect() as connection:
            return changelog.read(connection, position)

    def changes_prune(self, older_than: datetime) -> int:
        """See :meth:`Store.changes_prune`."""
        with self._connection() as connection:
            return changelog.prune(connection, older_than)

    def find_many(self, namespace: str, keys: builtins.list[str]) -> dict[str, Document]:
        """See :meth:`Store.find_many`: one query per 500 keys."""
        with translate_errors(self.url), self.engine.connect() as connection:
            return changelog.find_many(connection, namespace, keys)

    @contextmanager
    def _reading(self) -> Iterator[DocumentSession]:
        with translate_errors(self.url), Session(self.engine) as session, session.begin():
            yield SqlDocumentSession(session, self.url)

    def get(self, namespace: str, key: str) -> Document:
        """See :meth:`DocumentSession.get`; runs in a transaction of its own."""
        with self._reading() as session:
            return session.get(namespace, key)

    def find(self, namespace: str, key: str) -> Document | None:
        """See :meth:`DocumentSession.find`; runs in a transaction of its own."""
        with self._reading() as session:
            return session.find(namespace, key)

    def put(self, namespace: str, key: str, value: dict[str, Any], expected_version: int | None = None) -> Document:
        """See :meth:`DocumentSession.put`; runs in a transaction of its own."""
        with self.transaction() as session:
            return session.put(namespace, key, value, expected_version)

    def put_many(self, namespace: str, values: Mapping[str, dict[str, Any]]) -> int:
        """See :meth:`DocumentSession.put_many`; runs in a transaction of its own."""
        with self.transaction() as session:
            return session.put_many(namespace, values)

    def delete(self, namespace: str, key: str, expected_version: int | None = None) -> None:
        """See :meth:`DocumentSession.delete`; runs in a transaction of its own."""
        with self.transaction() as session:
            session.delete(namespace, key, expected_version)

    def list(self, namespace: str, prefix: str = "", limit: int | None = None, offset: int = 0) -> list[Document]:
        """See :meth:`DocumentSession.list`; runs in a transaction of its own."""
        with self._reading() as session:
            return session.list(namespace, prefix, limit, offset)

    def count(self, namespace: str, prefix: str = "") -> int:
        """See :meth:`DocumentSession.count`; runs in a transaction of its own."""
        with self._reading() as session:
            return session.count(namespace, prefix)

    def create_token(self, name: str, role: Role) -> tuple[Token, str]:
        """Create a token with a fresh ``dcsim_``-prefixed secret; only its hash is stored."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = Token(id=new_id(), name=name, role=role, created_at=utcnow())
        with translate_errors(self.url), self.engine.begin() as connection:
            connection.execute(
                tokens_table.insert().values(
                    id=token.id,
                    name=token.name,
                    role=token.role.value,
                    secret_hash=hash_secret(secret),
                    created_at=token.created_at,
                    revoked=False,
                )
            )
        return token, secret

    def verify_token(self, secret: str) -> Token | None:
        """The live token whose secret this is, or None."""
        query = select(tokens_table).where(
            tokens_table.c.secret_hash == hash_secret(secret),
            tokens_table.c.revoked.is_(False),
        )
        with translate_errors(self.url), self.engine.connect() as connection:
            row = connection.execute(query).one_or_none()
        return None if row is None else token_of(row)

    def list_tokens(self) -> builtins.list[Token]:
        """Every token, revoked ones included, oldest first."""
        query = select(tokens_table).order_by(tokens_table.c.created_at, tokens_table.c.id)
        with translate_errors(self.url), self.engine.connect() as connection:
            return [token_of(row) for row in connection.execute(query)]

    def revoke_token(self, token_id: str) -> None:
        """Mark a token revoked; NotFound if there is no such token."""
        query = tokens_table.update().where(tokens_table.c.id == token_id).values(revoked=True)
        with translate_errors(self.url), self.engine.begin() as connection:
            if connection.execute(query).rowcount == 0:
                raise NotFound(f"no token {token_id!r}")


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration for the packaged migrations, running on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config
