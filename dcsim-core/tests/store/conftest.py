"""Fixtures of the store contract suite: every test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from ``DCSIM_TEST_DATABASE_URL``. Each test gets a schema of its own,
created empty, put first on the connection's ``search_path`` and dropped afterwards, so
tests start clean without needing a database per test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from dcsim.settings import Settings
from dcsim.store.engine import normalize_url
from dcsim.store.sql import SqlStore
from dcsim.testing import required_database_url

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An engine on the test PostgreSQL database; skip (or fail on CI) when none is configured."""
    url = required_database_url("the store tests")
    engine = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of the parametrised backend."""
    if request.param == "sqlite":
        # A directory that does not exist yet: the store must create it.
        yield f"sqlite:///{tmp_path / 'data' / 'dcsim.sqlite3'}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = f"dcsim_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def backend(database_url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    return normalize_url(database_url).get_backend_name()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test database."""
    return Settings(data_dir=tmp_path, database_url=database_url)


@pytest.fixture
def make_store(settings: Settings) -> Iterator[Callable[[], SqlStore]]:
    """Open further stores on the same database (other processes, or after a restart)."""
    opened: list[SqlStore] = []

    def make() -> SqlStore:
        store = SqlStore(settings)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def empty_store(make_store: Callable[[], SqlStore]) -> SqlStore:
    """A store on a database that has never been migrated."""
    return make_store()


@pytest.fixture
def store(empty_store: SqlStore) -> SqlStore:
    """A store on a freshly migrated database."""
    empty_store.upgrade()
    return empty_store
