"""Where VMs go: initial placement, HA restart targets, networks and free addresses."""

from __future__ import annotations

import ipaddress
import itertools

from dcsim.errors import Conflict
from dcsim.sim.model import Cluster, HealthStatus, Host, Network, PowerState, Vm
from dcsim.sim.world import World


def place(world: World, host_ref: str | None, cluster_ref: str | None) -> Host:
    """``host_ref``, else the least loaded healthy host of ``cluster_ref`` (or of any cluster)."""
    if host_ref:
        return world.get(Host, host_ref)
    clusters = [world.get(Cluster, cluster_ref)] if cluster_ref else world.all(Cluster)
    candidates = [h for c in clusters for h in world.hosts_in(c) if h.status is not HealthStatus.FAILED]
    if not candidates:
        raise Conflict("no healthy host to place the VM on")
    return min(candidates, key=lambda h: (len(world.vms_on(h)), h.name))


def ha_target(world: World, cluster: Cluster, vm: Vm) -> Host | None:
    """The least loaded other host of ``cluster`` that is ok and on, where HA restarts ``vm``."""
    candidates = [
        h
        for h in world.hosts_in(cluster)
        if h.id != vm.host_id and h.status is HealthStatus.OK and h.power_state is PowerState.ON
    ]
    return min(candidates, key=lambda h: (len(world.vms_on(h)), h.name), default=None)


def check_host_can_run(host: Host, vm: Vm) -> None:
    """Conflict unless ``host`` is on and not failed."""
    if host.status is HealthStatus.FAILED or host.power_state is not PowerState.ON:
        raise Conflict(f"host {host.name} is {host.status.value} and cannot run {vm.name}")


def network_for(world: World, cluster: Cluster, ref: str | None) -> Network:
    """Network ``ref``, else the first network of the cluster's datacenter."""
    if ref:
        return world.get(Network, ref)
    network = next((n for n in world.all(Network) if n.datacenter_id == cluster.datacenter_id), None)
    if network is None:
        raise Conflict(f"datacenter of {cluster.name} has no network")
    return network


def free_ip(world: World, network: Network) -> str | None:
    """The first address of ``network`` no NIC uses (from .10 on), None without a CIDR."""
    if not network.cidr:
        return None
    used = {nic.ip for vm in world.all(Vm) for nic in vm.nics if nic.network_id == network.id}
    # From .10 on, as the seed does; hosts() is a generator, so a /16 is not listed whole.
    for address in itertools.islice(ipaddress.ip_network(network.cidr).hosts(), 9, None):
        if str(address) not in used:
            return str(address)
    raise Conflict(f"network {network.name} has no free address")


__all__ = ["check_host_can_run", "free_ip", "ha_target", "network_for", "place"]
