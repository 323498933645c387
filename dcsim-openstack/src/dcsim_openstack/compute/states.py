"""Nova's status of a server, read from the world on every request.

Nova shows three things: ``status`` (ACTIVE, BUILD, SHUTOFF, PAUSED, SUSPENDED, ERROR,
DELETED), ``OS-EXT-STS:vm_state`` (active, building, stopped, paused, suspended, error,
deleted), ``OS-EXT-STS:power_state`` (0 NOSTATE, 1 RUNNING, 3 PAUSED, 4 SHUTDOWN,
7 SUSPENDED) and ``OS-EXT-STS:task_state`` (an operation in flight, else null).

Core's VM power is the truth: a VM powered off through ``/sim`` is SHUTOFF here; a VM
whose compute host failed is ERROR (Nova cannot reach it; the VM is down with its host)
until the host is back; so is a server whose boot failed (its node could not be made).
"""

from __future__ import annotations

import attrs

from dcsim.sim.model import HealthStatus, Host, PowerState, Vm
from dcsim.sim.world import World
from dcsim_openstack.compute.model import ServerRecord

RUNNING, PAUSED, SHUTDOWN, SUSPENDED, NOSTATE = 1, 3, 4, 7, 0


@attrs.frozen
class ServerState:
    """Nova's view of one server's state."""

    status: str
    vm_state: str
    power_state: int
    task_state: str | None
    host_status: str


def host_status(host: Host | None) -> str:
    """Nova's ``host_status``: UP, DOWN (failed or off) or UNKNOWN (no host)."""
    if host is None:
        return "UNKNOWN"
    if host.status is HealthStatus.FAILED or host.power_state is not PowerState.ON:
        return "DOWN"
    return "UP"


def server_state(world: World, vm: Vm, record: ServerRecord | None) -> ServerState:
    """The state Nova shows for ``vm`` (with its record, when Nova made it)."""
    host = world.find(Host, vm.host_id)
    up = host_status(host)
    power = {PowerState.ON: RUNNING, PowerState.OFF: SHUTDOWN}.get(vm.power_state)
    if power is None:
        power = PAUSED if record is not None and record.vm_state == "paused" else SUSPENDED
    task = record.task_state if record is not None else None
    if up == "DOWN":
        return ServerState("ERROR", "error", power if vm.power_state is PowerState.ON else SHUTDOWN, task, up)
    if record is not None and record.vm_state == "error":
        return ServerState("ERROR", "error", power, task, up)
    if record is not None and record.vm_state == "building":
        return ServerState("BUILD", "building", NOSTATE, task, up)
    if vm.power_state is PowerState.ON:
        return ServerState("ACTIVE", "active", RUNNING, task, up)
    if vm.power_state is PowerState.OFF:
        return ServerState("SHUTOFF", "stopped", SHUTDOWN, task, up)
    if power == PAUSED:
        return ServerState("PAUSED", "paused", PAUSED, task, up)
    return ServerState("SUSPENDED", "suspended", SUSPENDED, task, up)


__all__ = ["ServerState", "host_status", "server_state"]
