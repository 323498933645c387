"""Events published while an instance starts reach its subscribers, on every bus driver:
consumer groups exist before the first start-up hook runs."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from dcsim import hookimpl
from dcsim.model import Event


@pytest.fixture
def bus_overrides(driver: str, request: pytest.FixtureRequest) -> dict[str, object]:
    overrides: dict[str, object] = {"bus_driver": driver, "bus_stream": f"test:{uuid.uuid4().hex}"}
    if driver == "redis":
        overrides["redis_url"] = request.getfixturevalue("redis_server").url
    return overrides


async def test_startup_events_are_delivered(make_dcsim, bus_overrides):
    received: list[Event] = []
    both = asyncio.Event()

    async def on_boot(dcsim, event):
        received.append(event)
        if len(received) == 2:
            both.set()

    class Booting:
        @hookimpl
        def dcsim_register_event_types(self, registry):
            registry.add("boot.said", description="said while starting")

        @hookimpl
        def dcsim_register_subscribers(self, registry):
            registry.add("boot-listeners", on_boot, types=["boot.*"])

        @hookimpl
        async def dcsim_startup(self, dcsim):
            await dcsim.publish("boot.said", {"n": 1}, source="/test")
            await dcsim.publish("boot.said", {"n": 2}, source="/test")

    async with make_dcsim(Booting(), **bus_overrides) as sim:
        await asyncio.wait_for(both.wait(), timeout=10)
        assert sorted(event.data["n"] for event in received) == [1, 2]
        assert sim.bus.name == bus_overrides["bus_driver"]
