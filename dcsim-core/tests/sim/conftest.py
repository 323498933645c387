"""Fixtures for the simulation tests: instances and clients on the embedded defaults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from dcsim import hookimpl
from dcsim.model import Event
from dcsim.sim.model import Blade, Chassis, Cluster, Datastore, GuestOs, Host, Network, Platform


class BladeHost:
    """Adds a hypervisor host running on a fourth blade, with one VM, to the seed."""

    @hookimpl
    def dcsim_sim_seed_topology(self, topology):
        world = topology.world
        chassis = world.get(Chassis, "chassis-01")
        blade = topology.add(
            Blade(
                id=topology.id("blade", "c01s04"), name="c01s04", chassis_id=chassis.id, slot=4,
                model="UCSB-B200-M5", serial="FCH0000C014", cpu=32, memory_mb=262_144, firmware="4.2(3d)",
            )
        )  # fmt: skip
        cluster = world.get(Cluster, "cluster-01")
        host = topology.host("esxi-03", cluster, cpu_cores=32, memory_mb=262_144, blade=blade)
        topology.vm(
            "vm-blade-01", host, 2, 4096, GuestOs.RHEL9, world.get(Network, "VM Network"),
            platform=Platform.VMWARE, datastore=world.get(Datastore, "datastore-01"),
        )  # fmt: skip
        assert world.get(Host, "esxi-03").blade_id == blade.id


class Recorder:
    """Collects every bus event of an instance, in order, through a consumer group."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    @hookimpl
    def dcsim_register_subscribers(self, registry):
        async def record(dcsim, event):
            self.events.append(event)

        registry.add("test-recorder", record)

    def types(self, prefix: str = "") -> list[str]:
        return [e.type for e in self.events if e.type.startswith(prefix)]

    async def wait_for(self, predicate: Callable[[list[Event]], Any], timeout: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate(self.events):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; events so far: {[e.type for e in self.events]}")
            await asyncio.sleep(0.02)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
