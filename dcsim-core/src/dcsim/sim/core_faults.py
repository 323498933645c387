"""Core's fault kinds, and the failure cascade plugins reuse for their own faults.

``host-failure`` takes a host down (``host``), or a physical server and the host that
runs on it (``blade``): the VMs of a failed host go down and, with HA on, restart on
another host of the cluster. ``network-partition`` cuts a network (optionally for
``duration_seconds``); ``disk-full`` fills a datastore (or a VM's). A plugin's fault that
takes a server down (a PDU outlet, a fabric) calls :func:`fail_blade` / :func:`fail_host`
and :func:`recover_blade` / :func:`recover_host` in its inject / undo.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from dcsim.errors import Conflict, InvalidInput
from dcsim.model import utcnow
from dcsim.sim.events import Change, changed, degraded, recovered
from dcsim.sim.faults import Fault, FaultRegistry, Target, required
from dcsim.sim.model import Blade, Cluster, Datastore, HealthStatus, Host, Network, PowerState
from dcsim.sim.placement import ha_target

if TYPE_CHECKING:
    from dcsim.sim.engine import Simulation


def fail_blade(sim: Simulation, fault: Fault, blade: Blade, reason: str, change: Change) -> None:
    """Physical server ``blade`` fails and loses power; its host (if any) fails with it."""
    if blade.status is HealthStatus.FAILED:
        raise Conflict(f"blade {blade.name} has already failed")
    fault.targets.append(Target("blade", blade.id, blade.name))
    fault.restore["blade_power"] = blade.power_state.value
    blade.status, blade.power_state = HealthStatus.FAILED, PowerState.OFF
    fault.effects.append(f"blade {blade.name} failed and lost power")
    change.save(blade)
    change.events.append(degraded("blade", blade, reason, fault))
    change.drive(blade)


def fail_host(sim: Simulation, fault: Fault, host: Host, reason: str, change: Change) -> None:
    """``host`` fails: its VMs go down and, with HA on, restart on another host of its cluster."""
    if host.status is HealthStatus.FAILED:
        raise Conflict(f"host {host.name} has already failed")
    fault.targets.append(Target("host", host.id, host.name))
    host.status, host.power_state = HealthStatus.FAILED, PowerState.OFF
    fault.effects.append(f"host {host.name} failed")
    change.save(host)
    change.events.append(degraded("host", host, reason, fault))
    cluster = sim.world.get(Cluster, host.cluster_id)
    for vm in sim.world.vms_on(host):
        if vm.power_state is PowerState.OFF:
            continue
        sim.set_vm_power(vm, PowerState.OFF, "host_failure", change)
        fault.effects.append(f"vm {vm.name} went down with {host.name}")
        target = ha_target(sim.world, cluster, vm) if cluster.ha_enabled else None
        if target is None:
            continue
        sim.move_vm(vm, target, "ha", change)
        sim.set_vm_power(vm, PowerState.ON, "ha_restart", change)
        fault.effects.append(f"vm {vm.name} restarted on {target.name} by HA")


def recover_blade(sim: Simulation, fault: Fault, blade: Blade, change: Change) -> None:
    """Physical server ``blade`` is ok again, back in the power state it had."""
    blade.status = HealthStatus.OK
    blade.power_state = PowerState(fault.restore.get("blade_power", PowerState.ON.value))
    change.save(blade)
    change.drive(blade)
    change.events.append(recovered("blade", blade, fault))


def recover_host(sim: Simulation, fault: Fault, host: Host, change: Change) -> None:
    """``host`` is ok and on again (its VMs stay where HA put them)."""
    host.status, host.power_state, host.booted_at = HealthStatus.OK, PowerState.ON, utcnow()
    change.save(host)
    change.events.append(recovered("host", host, fault))


def _inject_host_failure(sim: Simulation, fault: Fault, params: dict[str, Any], change: Change) -> None:
    blade = sim.world.find(Blade, params["blade"]) if params.get("blade") else None
    host = sim.world.get(Host, params["host"]) if params.get("host") else None
    if blade is None and host is None:
        raise InvalidInput("give 'host' or 'blade'")
    if host is not None and host.blade_id and blade is None:
        blade = sim.world.get(Blade, host.blade_id)
    if blade is not None and host is None:
        host = sim.world.host_on_blade(blade)
    if host is not None and host.status is HealthStatus.FAILED:
        raise Conflict(f"host {host.name} has already failed")
    if blade is not None:
        fail_blade(sim, fault, blade, "power loss", change)
    if host is not None:
        fail_host(sim, fault, host, "blade power loss" if blade else "host failure", change)


def _undo_host_failure(sim: Simulation, fault: Fault, change: Change) -> None:
    for target in fault.targets:
        if target.kind == "blade":
            recover_blade(sim, fault, sim.world.get(Blade, target.id), change)
        elif target.kind == "host":
            recover_host(sim, fault, sim.world.get(Host, target.id), change)


def _inject_partition(sim: Simulation, fault: Fault, params: dict[str, Any], change: Change) -> None:
    network = sim.world.get(Network, required(params, "network"))
    duration = params.get("duration_seconds")
    if network.partitioned:
        raise Conflict(f"network {network.name} is already partitioned")
    if duration is not None:
        if not isinstance(duration, int | float) or duration <= 0:
            raise InvalidInput("duration_seconds must be a positive number")
        fault.expires_at = utcnow() + timedelta(seconds=float(duration))
    fault.targets.append(Target("network", network.id, network.name))
    network.partitioned = True
    fault.effects.append(f"network {network.name} partitioned")
    change.save(network)
    change.events.append(changed("network", network, "partitioned", fault))


def _undo_partition(sim: Simulation, fault: Fault, change: Change) -> None:
    for target in fault.targets:
        network = sim.world.get(Network, target.id)
        network.partitioned = False
        change.save(network)
        change.events.append(changed("network", network, "healed", fault))


def _inject_disk_full(sim: Simulation, fault: Fault, params: dict[str, Any], change: Change) -> None:
    if params.get("vm"):
        vm = sim.vm(params["vm"])
        datastore_id = next((d.datastore_id for d in vm.disks if d.datastore_id), None)
        if datastore_id is None:
            raise Conflict(f"{vm.name} has no disk on a datastore")
        fault.targets.append(Target("vm", vm.id, vm.name))
        datastore = sim.world.get(Datastore, datastore_id)
    else:
        datastore = sim.world.get(Datastore, required(params, "datastore"))
    if datastore.used_gb >= datastore.capacity_gb:
        raise Conflict(f"datastore {datastore.name} is already full")
    fault.targets.append(Target("datastore", datastore.id, datastore.name))
    fault.restore["used_gb"] = datastore.used_gb
    datastore.used_gb = datastore.capacity_gb
    fault.effects.append(f"datastore {datastore.name} full")
    change.save(datastore)


def _undo_disk_full(sim: Simulation, fault: Fault, change: Change) -> None:
    for target in fault.targets:
        if target.kind == "datastore":
            datastore = sim.world.get(Datastore, target.id)
            datastore.used_gb = int(fault.restore.get("used_gb", 0))
            change.save(datastore)


def register_core_faults(registry: FaultRegistry) -> None:
    """Add core's fault kinds to ``registry``."""
    registry.add(
        "host-failure",
        description="a host fails, or a physical server and the host on it; VMs go down, HA restarts them",
        params={"host": "host name or id", "blade": "physical server name or id (instead of host)"},
        inject=_inject_host_failure,
        undo=_undo_host_failure,
    )
    registry.add(
        "network-partition",
        description="a network is cut off",
        params={"network": "network name or id", "duration_seconds": "optional: heals by itself after"},
        types={"duration_seconds": Annotated[float, msgspec.Meta(gt=0)]},
        inject=_inject_partition,
        undo=_undo_partition,
    )
    registry.add(
        "disk-full",
        description="a datastore is full",
        params={"datastore": "datastore name or id", "vm": "a VM whose datastore fills (instead of datastore)"},
        inject=_inject_disk_full,
        undo=_undo_disk_full,
    )


__all__ = ["fail_blade", "fail_host", "recover_blade", "recover_host", "register_core_faults"]
