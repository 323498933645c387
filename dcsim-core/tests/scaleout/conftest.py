"""Fixtures of the scale-out suite: ``dcsim serve`` processes on one PostgreSQL and one Redis.

PostgreSQL comes from ``DCSIM_TEST_DATABASE_URL`` (a schema of its own per test session);
Redis is a real ``redis-server`` started on a free loopback port (``tests/bus/redis_server.py``).
Without PostgreSQL the suite is skipped locally and fails under ``CI``.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dcsim import testing
from dcsim.testing import ServerProcess, run_server

sys.path.insert(0, str(Path(__file__).parents[1] / "bus"))
from redis_server import RedisServer

#: The SLA check runs this often in the test servers, so a breach is seen within a second.
SLA_CHECK_SECONDS = "0.5"


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema, dropped afterwards; skip (or fail under
    ``CI``) without ``DCSIM_TEST_DATABASE_URL``."""
    with testing.postgres_schema(testing.required_database_url("the scale-out tests"), "dcsim_scaleout") as url:
        yield url


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
