"""Nova's status, vm_state, power_state and host_status, read from core's VM, its host and
the server's record."""

from __future__ import annotations

import pytest

from dcsim.sim.model import Cluster, Datacenter, HealthStatus, Host, PowerState, Vm
from dcsim.sim.world import World
from dcsim_openstack.compute.model import ServerRecord
from dcsim_openstack.compute.states import server_state


@pytest.fixture
def world() -> World:
    world = World()
    world.add(Datacenter(id="dc", name="RegionOne", platform="openstack"))
    world.add(Cluster(id="az", name="nova", datacenter_id="dc", platform="openstack", ha_enabled=False))
    world.add(Host(id="h1", name="compute-01", cluster_id="az", cpu_cores=8, memory_mb=16384))
    return world


def _vm(world: World, power: PowerState) -> Vm:
    vm = Vm(id="v1", name="web", platform="openstack", host_id="h1", cpu=1, memory_mb=512, power_state=power)
    world.add(vm)
    return vm


def _record(vm_state: str, task: str | None = None) -> ServerRecord:
    return ServerRecord(id="v1", name="web", project_id="p", user_id="u", vm_state=vm_state, task_state=task)


@pytest.mark.parametrize(
    ("power", "vm_state", "expected"),
    [
        (PowerState.OFF, "building", ("BUILD", "building", 0, "UP")),
        (PowerState.ON, "active", ("ACTIVE", "active", 1, "UP")),
        (PowerState.OFF, "active", ("SHUTOFF", "stopped", 4, "UP")),  # powered off through /sim
        (PowerState.SUSPENDED, "paused", ("PAUSED", "paused", 3, "UP")),
        (PowerState.SUSPENDED, "suspended", ("SUSPENDED", "suspended", 7, "UP")),
        (PowerState.SUSPENDED, "active", ("SUSPENDED", "suspended", 7, "UP")),  # suspended through /sim
    ],
)
def test_status_follows_core_power_and_the_record(world, power, vm_state, expected):
    state = server_state(world, _vm(world, power), _record(vm_state))
    assert (state.status, state.vm_state, state.power_state, state.host_status) == expected


def test_a_seed_server_without_a_record(world):
    state = server_state(world, _vm(world, PowerState.ON), None)
    assert (state.status, state.task_state) == ("ACTIVE", None)


@pytest.mark.parametrize("breaks", ["failed", "off"])
def test_a_server_on_a_down_host_is_error(world, breaks):
    host = world.get(Host, "h1")
    if breaks == "failed":
        host.status = HealthStatus.FAILED
    else:
        host.power_state = PowerState.OFF
    state = server_state(world, _vm(world, PowerState.OFF), _record("active"))
    assert (state.status, state.vm_state, state.power_state, state.host_status) == ("ERROR", "error", 4, "DOWN")


def test_task_state_is_the_records(world):
    assert server_state(world, _vm(world, PowerState.OFF), _record("building", "spawning")).task_state == "spawning"


def test_a_failed_boot_is_error(world):
    state = server_state(world, _vm(world, PowerState.ON), _record("error"))
    assert (state.status, state.vm_state, state.host_status) == ("ERROR", "error", "UP")
