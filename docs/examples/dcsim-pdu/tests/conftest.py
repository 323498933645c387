"""Test-only plugins for the PDU's tests.

The fixtures ``make_dcsim``, ``make_client`` and ``dcsim_client`` come from dc-sim's
pytest plugin (``dcsim.testing``), which pytest loads by itself once dcsim-core is
installed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from dcsim import hookimpl
from dcsim.model import Event
from dcsim.registry import SubscriberRegistry
from dcsim.sim.model import Chassis, Cluster, Datastore, GuestOs, Network
from dcsim.sim.topology import Topology


class RackServer:
    """Seeds a fourth server in slot 4 of chassis-01, running hypervisor host esxi-03 (of
    cluster-01, where HA is on) with one VM, so that outlet 4 of pdu-01 feeds a host."""

    name = "rack-server"

    @hookimpl
    def dcsim_sim_seed_topology(self, topology: Topology) -> None:
        world = topology.world
        chassis = world.get(Chassis, "chassis-01")
        server = topology.blade("c01s04", chassis, 4, model="blade-2s", cpu=32, memory_mb=262_144, firmware="1.0")
        host = topology.host("esxi-03", world.get(Cluster, "cluster-01"), cpu_cores=32, memory_mb=262_144, blade=server)
        topology.vm(
            "vm-rack-01", host, 2, 4096, GuestOs.RHEL9, world.get(Network, "VM Network"),
            platform="vmware", datastore=world.get(Datastore, "datastore-01"),
        )  # fmt: skip


class Recorder:
    """A test-only plugin that keeps every event of the bus, in order."""

    name = "recorder"

    def __init__(self) -> None:
        self.events: list[Event] = []

    @hookimpl
    def dcsim_register_subscribers(self, registry: SubscriberRegistry) -> None:
        async def keep(_: Any, event: Event) -> None:
            self.events.append(event)

        registry.add("pdu-test-recorder", keep)

    async def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.events):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; events so far: {[e.type for e in self.events]}")
            await asyncio.sleep(0.02)


def _eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.05)


@pytest.fixture
def recorder() -> Recorder:
    """A fresh :class:`Recorder`: pass it to ``make_dcsim`` or ``make_client``."""
    return Recorder()


@pytest.fixture
def rack_server() -> RackServer:
    """A :class:`RackServer`: pass it to ``make_dcsim`` or ``make_client``."""
    return RackServer()


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """``eventually(check, timeout=5.0)``: poll ``check`` until it returns something true."""
    return _eventually
