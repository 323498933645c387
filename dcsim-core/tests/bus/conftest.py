"""Fixtures of the bus suite: every bus test runs against each driver, Redis being a real server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis_server import RedisServer

from dcsim.bus.base import EventBus
from dcsim.drivers import driver_class
from dcsim.settings import Settings

# Short timeouts keep the suite fast; tests that wait for redelivery wait for these.
REDELIVERY_SECONDS = 0.3
MAX_DELIVERIES = 3

BusFactory = Callable[..., Awaitable[EventBus]]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server without persistence for the whole session; tests use their own streams."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_redis(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """Start a dedicated redis-server (with extra ``args``), stopped at teardown."""
    servers: list[RedisServer] = []

    def start(args: list[str] | None = None) -> RedisServer:
        server = RedisServer(tmp_path / f"redis-{len(servers)}", args)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


def bus_settings(redis_url: str | None = None, **overrides: Any) -> Settings:
    """Settings for a test bus on a stream of its own."""
    values: dict[str, Any] = {
        "bus_stream": f"test:{uuid.uuid4().hex}",
        "bus_redelivery_seconds": REDELIVERY_SECONDS,
        "bus_max_deliveries": MAX_DELIVERIES,
    }
    if redis_url is not None:
        values["redis_url"] = redis_url
    return Settings(**(values | overrides))


@pytest.fixture(params=["memory", "redis"])
def driver(request: pytest.FixtureRequest) -> str:
    """The name of the bus driver under test."""
    return str(request.param)


@pytest.fixture
async def make_bus(driver: str, request: pytest.FixtureRequest) -> AsyncIterator[BusFactory]:
    """Build started buses of the driver under test, each on a stream of its own; closed at teardown.

    Keyword arguments override settings (``bus_retention_max_len=...``).
    """
    redis_url = request.getfixturevalue("redis_server").url if driver == "redis" else None
    buses: list[EventBus] = []

    async def make(**overrides: Any) -> EventBus:
        settings = bus_settings(redis_url, bus_driver=driver, **overrides)
        bus: EventBus = driver_class("dcsim.bus", driver)(settings)
        await bus.start()
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()


@pytest.fixture
async def bus(make_bus: BusFactory) -> EventBus:
    """A started bus of the driver under test, with the suite's short timeouts."""
    return await make_bus()
