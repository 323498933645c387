"""The store's tables, as the Alembic migrations in ``dcsim/store/migrations`` make them.

They describe the schema for queries; ``tests/store/test_migrations.py`` checks them
against the migrated schema. Also the conversions of their rows to dc-sim's models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    String,
    Table,
)
from sqlalchemy.dialects import postgresql

from dcsim.model import Document, Role, Token

MAX_NAMESPACE_LENGTH = 128
MAX_KEY_LENGTH = 512

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

#: Events waiting for the relay (``dcsim.bus.relay``), written in the transaction of the
#: change that caused them; ``sent_at`` is set once the bus took them.
outbox_table = Table(
    "outbox",
    metadata,
    # BIGINT on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("event", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index(None, "sent_at", "id"),
)

#: Which documents each committed transaction wrote (``dcsim.store.changes``): other
#: processes read it to refresh their in-memory indexes. ``txid`` is PostgreSQL's
#: transaction id (None on SQLite, whose writers commit one at a time in ``id`` order).
changes_table = Table(
    "changes",
    metadata,
    # SQLite AUTOINCREMENT: ids never go back, even after pruning deleted the newest rows.
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("txid", BigInteger, nullable=True),
    Column("namespace", String(MAX_NAMESPACE_LENGTH), nullable=False),
    Column("key", String(MAX_KEY_LENGTH), nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("origin", String(36), nullable=False),
    Column("committed_at", DateTime(timezone=True), nullable=False),
    Index(None, "txid"),
    Index(None, "committed_at"),
    sqlite_autoincrement=True,
)

#: Who relays the outbox: one holder at a time per database, until ``expires_at``.
leases_table = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

#: Responses of creates sent with an ``Idempotency-Key``, by a hash of (token, route, key).
idempotency_table = Table(
    "idempotency",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    # NULL while the first request is being answered.
    Column("status", Integer, nullable=True),
    # [[name, value], ...] as the handler sent them (content type, ETag, Location).
    Column("headers", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index(None, "created_at"),
)


def utc(moment: datetime) -> datetime:
    # SQLite returns naive datetimes (all written in UTC); PostgreSQL returns them in the
    # session time zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def document_of(row: Row[Any]) -> Document:
    return Document(
        namespace=row.namespace,
        key=row.key,
        value=row.value,
        version=row.version,
        updated_at=utc(row.updated_at),
    )


def token_of(row: Row[Any]) -> Token:
    return Token(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        created_at=utc(row.created_at),
        revoked=row.revoked,
    )
