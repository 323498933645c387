"""Fixtures of the scale-out suite: ``dcsim serve`` processes on one PostgreSQL and one Redis.

PostgreSQL comes from ``DCSIM_TEST_DATABASE_URL`` (a schema of its own per test session);
Redis is a real ``redis-server`` started on a free loopback port (``tests/bus/redis_server.py``).
Without PostgreSQL the suite is skipped locally and fails under ``CI``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from dcsim.store.engine import normalize_url
from dcsim.testing import ServerProcess, run_server

sys.path.insert(0, str(Path(__file__).parents[1] / "bus"))
from redis_server import RedisServer

DATABASE_URL_VARIABLE = "DCSIM_TEST_DATABASE_URL"
#: The SLA check runs this often in the test servers, so a breach is seen within a second.
SLA_CHECK_SECONDS = "0.5"


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema, dropped afterwards; skip (or fail under
    ``CI``) without ``DCSIM_TEST_DATABASE_URL``."""
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if not url:
        message = f"{DATABASE_URL_VARIABLE} is not set: the scale-out tests need PostgreSQL"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must start PostgreSQL and export it", pytrace=False)
        pytest.skip(message)
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    schema = f"dcsim_scaleout_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield admin.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def shared_database() -> Iterator[str]:
    """The URL of the PostgreSQL schema of the session's two servers."""
    with postgres_schema() as url:
        yield url


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server for the session's servers."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


def datacenter_env(database_url: str, redis: RedisServer) -> dict[str, str]:
    """The ``DCSIM_*`` settings every process of one datacenter shares."""
    return {
        "DCSIM_DATABASE_URL": database_url,
        "DCSIM_BUS_DRIVER": "redis",
        "DCSIM_REDIS_URL": redis.url,
        "DCSIM_BUS_STREAM": f"scaleout:{uuid.uuid4().hex}",
        "DCSIM_PLUGINS__ITSM__SLA_CHECK_SECONDS": SLA_CHECK_SECONDS,
    }


@pytest.fixture(scope="session")
def shared_env(shared_database: str, shared_redis: RedisServer) -> dict[str, str]:
    """The settings of the session's two servers."""
    return datacenter_env(shared_database, shared_redis)


@pytest.fixture(scope="session")
def two_servers(
    shared_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two ``dcsim serve`` processes (A, then B) on one store and one bus, as ``--workers 2``
    runs them: one data directory, where A's first start wrote the admin token."""
    base = tmp_path_factory.mktemp("scaleout")
    data_dir = base / "data"
    with contextlib.ExitStack() as stack:
        first = stack.enter_context(run_server(data_dir, shared_env, base / "a.log"))
        second = stack.enter_context(run_server(data_dir, shared_env, base / "b.log"))
        yield first, second


def client(server: ServerProcess) -> httpx.Client:
    """An admin client of ``server``."""
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)
