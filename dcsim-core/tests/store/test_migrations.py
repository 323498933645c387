"""The migrations and the tables the driver queries describe the same schema."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from dcsim.store.sql import MIGRATIONS_DIR, SqlStore, alembic_config
from dcsim.store.tables import metadata


def test_migrated_schema_matches_the_model_metadata(store: SqlStore) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, metadata) == []


def test_an_empty_database_differs_from_the_model_metadata(empty_store: SqlStore) -> None:
    """Guards the test above: the comparison does see missing tables."""
    with empty_store.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), metadata)

    assert {diff[1].name for diff in diffs if diff[0] == "add_table"} == {
        "tokens",
        "documents",
        "outbox",
        "leases",
        "idempotency",
        "changes",
    }


def test_migrations_form_one_line_of_history() -> None:
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))

    assert scripts.get_heads() == [scripts.get_current_head()]
    assert [revision.revision for revision in scripts.walk_revisions()][-1] == "0001"


def test_downgrade_to_base_and_upgrade_again(store: SqlStore) -> None:
    """Every migration can be undone, so a bad release can be rolled back."""
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")

    assert store.current_revision() is None
    assert store.upgrade() == ["0001", "0002", "0003"]


def test_migrated_collations_match_the_model_metadata(store: SqlStore) -> None:
    """``compare_metadata`` ignores collations, and the key order depends on them."""
    dialect = store.engine.dialect
    inspector = inspect(store.engine)
    for table in metadata.tables.values():
        for reflected in inspector.get_columns(table.name):
            expected = getattr(table.c[reflected["name"]].type.dialect_impl(dialect), "collation", None)
            assert getattr(reflected["type"], "collation", None) == expected, (table.name, reflected["name"])
