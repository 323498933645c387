"""vSphere's part of the seed: DRS, resource pools, port groups and dvSwitches over
core's vSphere datacenters, clusters, hosts and networks.

Every estate (the default seed and generated ones) gets, per datacenter of the
``vmware`` platform:

- a ``DrsConfig`` per cluster (DRS on, fully automated), named after the cluster;
- a resource pool ``<cluster>-<env>`` per env tag of the cluster's VMs, holding them;
- a standard port group on ``vSwitch0`` of every host of the datacenter for each of its
  networks, named after the network;
- a distributed switch ``<datacenter>-dvs`` over those hosts, with a port group
  ``<datacenter>-dvs-vlan<N>`` per VLAN of its networks.

The default seed also gets what SPEC-020 of the seed family names: network
``VM Network 200`` (VLAN 200, 10.10.200.0/24) next to core's ``VM Network`` (VLAN 100);
every estate's datastores get their vSphere view (same name, a file system type).
"""

from __future__ import annotations

from collections.abc import Iterable

from dcsim.sim.model import Cluster, Datacenter, Datastore, Network, Vm
from dcsim.sim.topology import Topology
from dcsim_vmware.model import (
    PLATFORM,
    DistributedPortGroup,
    DistributedSwitch,
    DrsConfig,
    PortGroup,
    ResourcePool,
    Shares,
    VsphereDatastore,
)

#: The default seed's second VM network (SPEC-020: VLAN 200 next to VLAN 100).
VLAN200 = ("VM Network 200", 200, "10.10.200.0/24")


def seed_default(topology: Topology) -> None:
    """The default seed's vSphere objects, with SPEC-020's VLAN 200 network."""
    world = topology.world
    west = world.find(Datacenter, "dc-west")
    if west is None or west.platform != PLATFORM:
        return
    name, vlan, cidr = VLAN200
    if world.find(Network, name) is None:
        topology.network(name, west, vlan=vlan, cidr=cidr)
    seed_vsphere(topology)


def seed_vsphere(topology: Topology) -> None:
    """DRS, pools, port groups and a dvSwitch for every vSphere datacenter of the world."""
    for dc in topology.world.all(Datacenter):
        if dc.platform == PLATFORM:
            _seed_datacenter(topology, dc)


def _seed_datacenter(topology: Topology, dc: Datacenter) -> None:
    t, world = topology, topology.world
    clusters = [c for c in world.all(Cluster) if c.datacenter_id == dc.id]
    hosts = [h for cluster in clusters for h in world.hosts_in(cluster)]
    host_ids = [h.id for h in hosts]
    for cluster in clusters:
        t.add(DrsConfig(id=t.id("drs_config", cluster.name), name=cluster.name, cluster_id=cluster.id))
        _pools(topology, cluster, [vm for host in world.hosts_in(cluster) for vm in world.vms_on(host)])
    for datastore in world.all(Datastore):
        if datastore.datacenter_id == dc.id:
            name = datastore.name
            t.add(VsphereDatastore(id=t.id("vsphere_datastore", name), name=name, datastore_id=datastore.id))
    networks = [n for n in world.all(Network) if n.datacenter_id == dc.id and n.platform == PLATFORM]
    for network in networks:
        t.add(PortGroup(id=t.id("port_group", network.name), name=network.name, network_id=network.id,
                        host_ids=list(host_ids)))  # fmt: skip
    switch_name = f"{dc.name}-dvs"
    switch = DistributedSwitch(id=t.id("distributed_switch", switch_name), name=switch_name, datacenter_id=dc.id,
                               host_ids=list(host_ids))  # fmt: skip
    t.add(switch)
    for network in networks:
        if network.vlan is None:
            continue
        name = f"{switch_name}-vlan{network.vlan}"
        t.add(DistributedPortGroup(id=t.id("distributed_port_group", name), name=name, switch_id=switch.id,
                                   vlan=network.vlan, network_id=network.id))  # fmt: skip


def _pools(topology: Topology, cluster: Cluster, vms: Iterable[Vm]) -> None:
    by_env: dict[str, list[str]] = {}
    for vm in sorted(vms, key=lambda v: v.name):
        env = vm.tags.get("env")
        if env:
            by_env.setdefault(env, []).append(vm.id)
    for env, vm_ids in sorted(by_env.items()):
        name = f"{cluster.name}-{env}"
        shares: Shares = "high" if env == "prod" else "low" if env == "dev" else "normal"
        topology.add(ResourcePool(id=topology.id("resource_pool", name), name=name, cluster_id=cluster.id,
                                  cpu_shares=shares, memory_shares=shares, vm_ids=vm_ids))  # fmt: skip


__all__ = ["VLAN200", "seed_default", "seed_vsphere"]
