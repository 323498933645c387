"""The ``sqlalchemy`` store driver: SQLite for the embedded mode, PostgreSQL when shared.

One synchronous SQLAlchemy 2 engine per store; the web layer calls it from worker
threads. The schema is owned by the Alembic migrations in ``dcsim/store/migrations``;
the tables below describe it for queries and are checked against the migrated schema by
``tests/store/test_migrations.py``.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import alembic.command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    Result,
    Row,
    String,
    Table,
    create_engine,
    event,
    exc,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session

from dcsim.errors import ConfigError, Conflict, InvalidInput, NotFound, Unavailable
from dcsim.model import Document, Role, Token, new_id, utcnow
from dcsim.settings import Settings
from dcsim.store.base import DocumentSession, Store

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
TOKEN_PREFIX = "dcsim_"
MAX_NAMESPACE_LENGTH = 128
MAX_KEY_LENGTH = 512

# Any fixed 64-bit number works: it only has to be the same in every dc-sim process.
_MIGRATION_LOCK_KEY = 0x64637369_6D000001
# SQLITE_BUSY_SNAPSHOT: a transaction that read a snapshot tried to write after another
# connection committed; it is the SQLite form of a lost optimistic race.
_SQLITE_BUSY_SNAPSHOT = 517
# SQLSTATE class 40 (serialization failure, deadlock): the transaction lost a race.
_SQLSTATE_TRANSACTION_ROLLBACK = "40"
# Strict JSON (no NaN or Infinity): PostgreSQL's JSONB refuses them, so SQLite must too.
_dump_json = functools.partial(json.dumps, allow_nan=False)

# Every constraint gets a predictable name, so that later migrations can drop or alter it
# (SQLite's batch mode cannot address unnamed constraints).
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tokens_table = Table(
    "tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked", Boolean, nullable=False),
    Index(None, "secret_hash", unique=True),
)

documents_table = Table(
    "documents",
    metadata,
    Column("namespace", String(MAX_NAMESPACE_LENGTH), primary_key=True),
    # Byte-wise collation so that keys sort and prefix-match the same on PostgreSQL as
    # on SQLite, whatever locale the PostgreSQL cluster was created with.
    Column(
        "key",
        String(MAX_KEY_LENGTH).with_variant(String(MAX_KEY_LENGTH, collation="C"), "postgresql"),
        primary_key=True,
    ),
    Column("value", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def _use_wal(cursor: Any) -> None:
    """Put a SQLite database in WAL mode (a property of the file, kept once set).

    Switching the mode needs the database to itself and, unlike other statements, does
    not wait on the busy timeout: connections opened together on a new file would fail
    with "database is locked", so the switch is retried for a while.
    """
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        return
    delay = 0.01
    deadline = time.monotonic() + 30
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def hash_secret(secret: str) -> str:
    """The stored form of a token secret.

    A fast unsalted hash is enough here: the secret is 256 random bits, not a password a
    person chose, so there is nothing to brute-force or look up in a table. It also lets
    ``verify_token`` find the token by an indexed equality lookup.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def normalize_url(raw: str) -> URL:
    """Parse a database URL and select the psycopg driver for PostgreSQL URLs."""
    try:
        url = make_url(raw)
    except exc.ArgumentError:
        # Not chained and not echoed: the text may hold a password.
        raise ConfigError(
            "cannot parse the database URL; expected dialect+driver://user:password@host/database"
        ) from None
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"the sqlalchemy store supports SQLite and PostgreSQL, not {url.get_backend_name()!r}",
        )
    return url


class SqlStore(Store):
    """Tokens and JSON documents in SQLite or PostgreSQL through SQLAlchemy 2.

    The database is ``settings.effective_database_url``: ``sqlite:///path`` (the
    parent directory is created), or ``postgresql+psycopg://...`` (``postgresql://``
    and ``postgres://`` are accepted and use psycopg). Call :meth:`upgrade` before use.
    """

    name = "sqlalchemy"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.url = normalize_url(settings.effective_database_url)
        if self.url.get_backend_name() == "sqlite":
            self.engine = self._sqlite_engine()
        else:
            connect_args = {} if "connect_timeout" in self.url.query else {"connect_timeout": 10}
            self.engine = create_engine(
                self.url, pool_pre_ping=True, connect_args=connect_args, json_serializer=_dump_json
            )
        # Sessions that may write (see transaction()); the option matters to SQLite only.
        self._writer = self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")

    def _sqlite_engine(self) -> Engine:
        database = self.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                masked = self.url.render_as_string(hide_password=True)
                raise Unavailable(f"cannot create the directory of {masked}: {error}") from error
        # A writer waits up to 30 s for another's write lock (pysqlite's default is 5 s,
        # which a migration or a bulk sync on a busy machine can outlast).
        engine = create_engine(
            self.url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=_dump_json
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Autocommit at the driver level, so that SQLAlchemy's own BEGIN (below) decides
            # where transactions start: pysqlite otherwise defers BEGIN to the first write,
            # which breaks reads-then-writes atomicity and SAVEPOINT.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            try:
                _use_wal(cursor)
                cursor.execute("PRAGMA foreign_keys=ON")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))

        return engine

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
        with translate_errors(self.url), Session(self._writer) as session, session.begin():
            yield SqlDocumentSession(session, self.url)

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
        return None if row is None else _token(row)

    def list_tokens(self) -> builtins.list[Token]:
        """Every token, revoked ones included, oldest first."""
        query = select(tokens_table).order_by(tokens_table.c.created_at, tokens_table.c.id)
        with translate_errors(self.url), self.engine.connect() as connection:
            return [_token(row) for row in connection.execute(query)]

    def revoke_token(self, token_id: str) -> None:
        """Mark a token revoked; NotFound if there is no such token."""
        query = tokens_table.update().where(tokens_table.c.id == token_id).values(revoked=True)
        with translate_errors(self.url), self.engine.begin() as connection:
            if connection.execute(query).rowcount == 0:
                raise NotFound(f"no token {token_id!r}")


class SqlDocumentSession(DocumentSession):
    """Document operations on one SQLAlchemy session; the caller owns its transaction."""

    def __init__(self, session: Session, url: URL) -> None:
        self.session = session
        self._url = url

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
        return None if row is None else _document(row)

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
            raise InvalidInput(f"document {key!r} in {namespace!r} cannot be stored: {_first_line(cause)}") from error
        if row is None:
            raise Conflict(f"document {key!r} in {namespace!r} is not at version {expected_version}")
        return _document(row)

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
            raise InvalidInput(f"documents in {namespace!r} cannot be stored: {_first_line(cause)}") from error
        return len(rows)

    def delete(self, namespace: str, key: str, expected_version: int | None = None) -> None:
        """Delete a document; NotFound if absent, Conflict on a version mismatch."""
        query = documents_table.delete().where(*_identity(namespace, key))
        if expected_version is not None:
            query = query.where(documents_table.c.version == expected_version)
        if self._execute(query.returning(documents_table.c.version)).first() is not None:
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
        return [_document(row) for row in self._execute(query)]

    def count(self, namespace: str, prefix: str = "") -> int:
        """How many documents ``list`` would return without a limit."""
        query = select(func.count()).select_from(documents_table).where(*_in_prefix(namespace, prefix))
        return int(self._execute(query).scalar_one())


@contextmanager
def translate_errors(url: URL) -> Iterator[None]:
    """Turn driver errors into dc-sim errors: a lost race is Conflict, the rest Unavailable.

    Messages name the database with its password masked.
    """
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as error:
        if _lost_race(error.orig):
            raise Conflict("a concurrent transaction changed the same data; retry") from error
        raise Unavailable(_unavailable_message(url, error)) from error
    except exc.TimeoutError as error:
        raise Unavailable(_unavailable_message(url, error)) from error


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration for the packaged migrations, running on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _unavailable_message(url: URL, error: exc.SQLAlchemyError) -> str:
    reason = _first_line(getattr(error, "orig", None) or error)
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return f"database {url.render_as_string(hide_password=True)} is unavailable: {reason}"


def _first_line(error: BaseException) -> str:
    message = str(error).strip()
    return message.splitlines()[0] if message else type(error).__name__


def _lost_race(orig: BaseException | None) -> bool:
    if getattr(orig, "sqlite_errorcode", None) == _SQLITE_BUSY_SNAPSHOT:
        return True
    return str(getattr(orig, "sqlstate", "") or "").startswith(_SQLSTATE_TRANSACTION_ROLLBACK)


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


def _utc(moment: datetime) -> datetime:
    # SQLite returns naive datetimes (all written in UTC); PostgreSQL returns them in the
    # session time zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _document(row: Row[Any]) -> Document:
    return Document(
        namespace=row.namespace,
        key=row.key,
        value=row.value,
        version=row.version,
        updated_at=_utc(row.updated_at),
    )


def _token(row: Row[Any]) -> Token:
    return Token(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        created_at=_utc(row.created_at),
        revoked=row.revoked,
    )
