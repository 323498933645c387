"""What vCenter's inventory should hold, read from the simulation as plain data.

Built on the event loop (the world is not shared with threads); the inventory
reconciler applies it to vCenter in a worker thread. Only vSphere-platform objects
count. vSphere's own kinds (resource pools, port groups, dvSwitches, DRS settings)
are read by kind name, so this module depends on nothing but core's world.
"""

from __future__ import annotations

from typing import Any

import attrs

from dcsim.sim.model import Cluster, Datacenter, Datastore, HealthStatus, Host, Network, PowerState, Vm
from dcsim.sim.world import World

PLATFORM = "vmware"


@attrs.frozen
class VmSpec:
    """One VM as vCenter should show it."""

    id: str
    name: str
    host: str
    cpu: int
    memory_mb: int
    power: str  # poweredOn, poweredOff, suspended
    guest_id: str
    datastore: str
    nics: tuple[tuple[str, str, str | None], ...]  # (mac, port group, ip)
    disk_gb: int
    snapshots: tuple[str, ...]
    pool: str | None


@attrs.frozen
class Inventory:
    """The vSphere part of the world."""

    datacenters: tuple[str, ...]
    #: cluster name -> (datacenter, HA on, DRS on)
    clusters: dict[str, tuple[str, bool, bool]]
    #: host name -> (cluster, connected)
    hosts: dict[str, tuple[str, bool]]
    #: datastore name -> datacenter
    datastores: dict[str, str]
    #: port group name -> (datacenter, VLAN)
    port_groups: dict[str, tuple[str, int]]
    #: pool name -> cluster
    pools: dict[str, str]
    #: dvSwitch name -> (datacenter, {port group name: VLAN})
    dvswitches: dict[str, tuple[str, dict[str, int]]]
    vms: dict[str, VmSpec]  # by sim id


POWER = {PowerState.ON: "poweredOn", PowerState.OFF: "poweredOff", PowerState.SUSPENDED: "suspended"}
GUEST_IDS = {"rhel9": "rhel9_64Guest", "ubuntu22": "ubuntu64Guest"}


def _kind(world: World, name: str) -> list[Any]:
    return dict(world.kinds()).get(name, [])


def datastore_names(world: World) -> dict[str, str]:
    """Core datastore id -> the name vSphere shows (a ``vsphere_datastore`` naming it, if any)."""
    names = {d.id: d.name for d in world.all(Datastore)}
    for named in _kind(world, "vsphere_datastore"):
        target = getattr(named, "datastore_id", None)
        if target in names:
            names[target] = named.name
    return names


def read_vm(world: World, vm: Vm) -> VmSpec | None:
    """One VM as vCenter should show it (None for a VM of another platform)."""
    host = world.find(Host, vm.host_id)
    cluster = world.find(Cluster, host.cluster_id) if host else None
    if host is None or cluster is None or cluster.platform != PLATFORM:
        return None
    dc_names = {d.id: d.name for d in world.all(Datacenter) if d.id == cluster.datacenter_id}
    networks = {n.id: n for n in world.all(Network) if n.datacenter_id in dc_names}
    pool_of = {v: p.name for p in _kind(world, "resource_pool") for v in getattr(p, "vm_ids", []) if v == vm.id}
    return _vm_spec(
        world, vm, {host.id: host}, {cluster.id: cluster}, dc_names, datastore_names(world), networks, pool_of
    )


def _vm_spec(
    world: World,
    vm: Vm,
    hosts: dict[str, Host],
    clusters: dict[str, Cluster],
    dc_names: dict[str, str],
    ds_names: dict[str, str],
    networks: dict[str, Network],
    pool_of: dict[str, str],
) -> VmSpec | None:
    if vm.host_id not in hosts:
        return None
    host = hosts[vm.host_id]
    dc = clusters[host.cluster_id].datacenter_id
    disk_ds = next((d.datastore_id for d in vm.disks if d.datastore_id in ds_names), None)
    in_dc = [ds_names[d.id] for d in world.all(Datastore) if d.datacenter_id == dc and d.id in ds_names]
    datastore = ds_names[disk_ds] if disk_ds else (in_dc[0] if in_dc else "")
    os_name = vm.node.guest_os.value if vm.node else vm.tags.get("os", "rhel9")
    return VmSpec(
        id=vm.id,
        name=vm.name,
        host=host.name,
        cpu=vm.cpu,
        memory_mb=vm.memory_mb,
        power=POWER[vm.power_state],
        guest_id=GUEST_IDS.get(os_name, "otherLinux64Guest"),
        datastore=datastore,
        nics=tuple((n.mac, networks[n.network_id].name, n.ip) for n in vm.nics if n.network_id in networks),
        disk_gb=sum(d.size_gb for d in vm.disks) or 1,
        snapshots=tuple(s.name for s in vm.snapshots),
        pool=pool_of.get(vm.id),
    )


def read_inventory(world: World) -> Inventory:
    """The vSphere inventory the world describes."""
    clusters = {c.id: c for c in world.all(Cluster) if c.platform == PLATFORM}
    dcs = {c.datacenter_id for c in clusters.values()}
    dc_names = {d.id: d.name for d in world.all(Datacenter) if d.id in dcs or d.platform == PLATFORM}
    drs = {d.cluster_id: bool(d.enabled) for d in _kind(world, "drs_config")}
    hosts = {h.id: h for h in world.all(Host) if h.cluster_id in clusters}
    ds_names = datastore_names(world)
    datastores = {
        ds_names[d.id]: dc_names[d.datacenter_id] for d in world.all(Datastore) if d.datacenter_id in dc_names
    }
    networks = {n.id: n for n in world.all(Network) if n.datacenter_id in dc_names}
    port_groups = {n.name: (dc_names[n.datacenter_id], n.vlan or 0) for n in networks.values()}
    pools = {p.name: clusters[p.cluster_id].name for p in _kind(world, "resource_pool") if p.cluster_id in clusters}
    pool_of = {vm_id: p.name for p in _kind(world, "resource_pool") for vm_id in getattr(p, "vm_ids", [])}
    dvswitches: dict[str, tuple[str, dict[str, int]]] = {}
    for switch in _kind(world, "distributed_switch"):
        if switch.datacenter_id in dc_names:
            groups = {g.name: g.vlan for g in _kind(world, "distributed_port_group") if g.switch_id == switch.id}
            dvswitches[switch.name] = (dc_names[switch.datacenter_id], groups)
    vms = {}
    for vm in world.all(Vm):
        spec = _vm_spec(world, vm, hosts, clusters, dc_names, ds_names, networks, pool_of)
        if spec is not None:
            vms[vm.id] = spec
    return Inventory(
        datacenters=tuple(sorted(set(dc_names.values()))),
        clusters={c.name: (dc_names[c.datacenter_id], c.ha_enabled, drs.get(c.id, True)) for c in clusters.values()},
        hosts={
            h.name: (
                clusters[h.cluster_id].name,
                h.status is not HealthStatus.FAILED and h.power_state is PowerState.ON,
            )
            for h in hosts.values()
        },
        datastores=datastores,
        port_groups=port_groups,
        pools=pools,
        dvswitches=dvswitches,
        vms=vms,
    )


__all__ = ["GUEST_IDS", "POWER", "Inventory", "VmSpec", "datastore_names", "read_inventory", "read_vm"]
