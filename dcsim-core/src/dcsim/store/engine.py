"""Opening the database: URL parsing, the engine (SQLite pragmas, WAL switch retried,
transactions begun by SQLAlchemy), and driver errors translated into dc-sim's.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, Connection, make_url

from dcsim.errors import ConfigError, Conflict, Unavailable
from dcsim.files import private_file

# SQLITE_BUSY_SNAPSHOT: a transaction that read a snapshot tried to write after another
# connection committed; it is the SQLite form of a lost optimistic race.
_SQLITE_BUSY_SNAPSHOT = 517
# SQLSTATE class 40 (serialization failure, deadlock): the transaction lost a race.
_SQLSTATE_TRANSACTION_ROLLBACK = "40"
# Strict JSON (no NaN or Infinity): PostgreSQL's JSONB refuses them, so SQLite must too.
_dump_json = functools.partial(json.dumps, allow_nan=False)


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


def create_store_engine(url: URL) -> Engine:
    """The engine of ``url``: PostgreSQL with a connect timeout and pre-ping, or SQLite
    (its directory created) as :func:`sqlite_engine` sets it up."""
    if url.get_backend_name() == "sqlite":
        return sqlite_engine(url)
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": 10}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, json_serializer=_dump_json)


def sqlite_engine(url: URL) -> Engine:
    """A SQLite engine: WAL, foreign keys, and BEGIN issued by SQLAlchemy (IMMEDIATE for
    connections with the ``sqlite_begin`` option)."""
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            # 0600 before SQLite opens it: its -wal and -shm files take the same mode. (A
            # directory in its place is left for the first connection to report.)
            if not Path(database).is_dir():
                private_file(Path(database))
        except OSError as error:
            masked = url.render_as_string(hide_password=True)
            raise Unavailable(f"cannot create {masked}: {error}") from error
    # A writer waits up to 30 s for another's write lock (pysqlite's default is 5 s,
    # which a migration or a bulk sync on a busy machine can outlast).
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=_dump_json)

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


def _unavailable_message(url: URL, error: exc.SQLAlchemyError) -> str:
    reason = first_line(getattr(error, "orig", None) or error)
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return f"database {url.render_as_string(hide_password=True)} is unavailable: {reason}"


def first_line(error: BaseException) -> str:
    """The first line of an error's message (drivers' messages run on with context)."""
    message = str(error).strip()
    return message.splitlines()[0] if message else type(error).__name__


def _lost_race(orig: BaseException | None) -> bool:
    if getattr(orig, "sqlite_errorcode", None) == _SQLITE_BUSY_SNAPSHOT:
        return True
    return str(getattr(orig, "sqlstate", "") or "").startswith(_SQLSTATE_TRANSACTION_ROLLBACK)
