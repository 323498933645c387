"""vSphere's own kinds of simulated objects, registered with core's world.

Core keeps datacenters, clusters (with HA), hosts, networks (VLAN, CIDR), datastores and
VMs; what only vSphere has lives here and points at core's objects by id:

- ``DrsConfig``: the DRS setting of a cluster (one per vSphere cluster, named after it);
- ``ResourcePool``: a child pool of a cluster's root pool, with shares, reservations,
  limits and the VMs it holds (a VM no pool names is in its cluster's root pool,
  ``Resources``, which vSphere makes by itself and this model does not store);
- ``PortGroup``: a standard port group on a host switch (``vSwitch0``) carrying one of
  core's networks (whose VLAN and CIDR it uses) on the hosts it lists;
- ``DistributedSwitch`` and ``DistributedPortGroup``: a dvSwitch of a datacenter over
  its hosts, and its port groups by VLAN;
- ``VsphereDatastore``: core's datastore as vSphere names it (``ds-01``), with its file
  system type. Core's datastore keeps its own name in ``/sim``.

Names are unique per kind (core's world wants that): port groups take their network's
name, DRS configs their cluster's, pools and dvSwitches names derived from their
cluster or datacenter (see ``dcsim_vmware.sim_seed``).
"""

from __future__ import annotations

from typing import Literal

import attrs

from dcsim.sim.model import Cluster, Datastore, Network, Vm
from dcsim.sim.world import World

#: The platform label of vSphere datacenters, clusters, networks and VMs.
PLATFORM = "vmware"
#: VMware's OUI: the MAC prefix of VM NICs.
MAC_PREFIX = "00:50:56"
#: The host switch every vSphere host has, and that standard port groups sit on.
VSWITCH = "vSwitch0"
#: The name vSphere gives a cluster's root resource pool.
ROOT_POOL = "Resources"

DrsBehavior = Literal["fullyAutomated", "partiallyAutomated", "manual"]
Shares = Literal["low", "normal", "high"]


@attrs.define(kw_only=True)
class DrsConfig:
    """The DRS setting of a vSphere cluster (HA is core's ``Cluster.ha_enabled``)."""

    id: str
    name: str
    cluster_id: str
    enabled: bool = True
    behavior: DrsBehavior = "fullyAutomated"
    #: vMotion rate 1 (most conservative) .. 5 (most aggressive), vSphere's default 3.
    migration_threshold: int = 3


@attrs.define(kw_only=True)
class ResourcePool:
    """A resource pool of a cluster: shares, reservations, limits and the VMs in it."""

    id: str
    name: str
    cluster_id: str
    #: The parent pool; None for a child of the cluster's root pool (``Resources``).
    parent_id: str | None = None
    cpu_shares: Shares = "normal"
    memory_shares: Shares = "normal"
    cpu_reservation_mhz: int = 0
    memory_reservation_mb: int = 0
    #: None is unlimited (vSphere's -1).
    cpu_limit_mhz: int | None = None
    memory_limit_mb: int | None = None
    expandable_reservation: bool = True
    vm_ids: list[str] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class PortGroup:
    """A standard port group on a host switch, carrying core's network ``network_id``
    (its VLAN and CIDR) on the hosts ``host_ids``; named after the network."""

    id: str
    name: str
    network_id: str
    vswitch: str = VSWITCH
    host_ids: list[str] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class DistributedSwitch:
    """A vSphere distributed switch of a datacenter, over the hosts ``host_ids``."""

    id: str
    name: str
    datacenter_id: str
    version: str = "8.0.0"
    mtu: int = 1500
    uplinks: list[str] = attrs.field(factory=lambda: ["uplink1", "uplink2"])
    host_ids: list[str] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class DistributedPortGroup:
    """A port group of a distributed switch on VLAN ``vlan``; ``network_id`` is core's
    network of that VLAN in the switch's datacenter, if there is one."""

    id: str
    name: str
    switch_id: str
    vlan: int
    network_id: str | None = None
    ports: int = 128


@attrs.define(kw_only=True)
class VsphereDatastore:
    """A datastore as vSphere shows it: its name there (core's, ``ds-01``) and its file
    system, over core's datastore ``datastore_id``."""

    id: str
    name: str
    datastore_id: str
    type: Literal["VMFS", "NFS", "vsan"] = "VMFS"


#: vSphere's kinds, by the name used in the store, ``GET /sim/state`` and event subjects.
KINDS: dict[str, type] = {
    "drs_config": DrsConfig,
    "resource_pool": ResourcePool,
    "port_group": PortGroup,
    "distributed_switch": DistributedSwitch,
    "distributed_port_group": DistributedPortGroup,
    "vsphere_datastore": VsphereDatastore,
}


def datastore_name(world: World, datastore: Datastore) -> str:
    """The name vSphere shows for core's ``datastore`` (its own name if no view renames it)."""
    view = next((v for v in world.all(VsphereDatastore) if v.datastore_id == datastore.id), None)
    return view.name if view else datastore.name


def drs_of(world: World, cluster: Cluster) -> DrsConfig | None:
    """The DRS setting of ``cluster``, None if it has none."""
    return next((d for d in world.all(DrsConfig) if d.cluster_id == cluster.id), None)


def pool_of(world: World, vm: Vm) -> ResourcePool | None:
    """The resource pool holding ``vm``; None when it is in its cluster's root pool."""
    return next((p for p in world.all(ResourcePool) if vm.id in p.vm_ids), None)


def port_group_of(world: World, network: Network) -> PortGroup | None:
    """The standard port group carrying ``network``, None if none does."""
    return next((p for p in world.all(PortGroup) if p.network_id == network.id), None)


def switch_of(world: World, network_id: str) -> str | None:
    """The name of the switch carrying ``network_id``: its standard port group's host
    switch, else the distributed switch of a port group on it; None if no switch does."""
    standard = next((p for p in world.all(PortGroup) if p.network_id == network_id), None)
    if standard is not None:
        return standard.vswitch
    distributed = next((p for p in world.all(DistributedPortGroup) if p.network_id == network_id), None)
    if distributed is None:
        return None
    return world.get(DistributedSwitch, distributed.switch_id).name


__all__ = [
    "KINDS",
    "MAC_PREFIX",
    "PLATFORM",
    "ROOT_POOL",
    "VSWITCH",
    "DistributedPortGroup",
    "DistributedSwitch",
    "DrsConfig",
    "PortGroup",
    "ResourcePool",
    "VsphereDatastore",
    "datastore_name",
    "drs_of",
    "pool_of",
    "port_group_of",
    "switch_of",
]
