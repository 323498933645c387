"""The vSphere inventory as ``/vcenter`` shows it: datacenters, clusters, hosts,
datastores and networks of the simulation's ``vmware`` platform, read from the world.

Objects of other platforms are not vSphere's: a name or id of one is a 404 here.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from dcsim.app import DcSim
from dcsim.errors import NotFound
from dcsim.sim.model import Cluster, Datacenter, Datastore, HealthStatus, Host, Network, PowerState
from dcsim.sim.world import World
from dcsim.web.contracts import LimitQuery, OffsetQuery, Page, page, responses
from dcsim_vmware.model import (
    PLATFORM,
    VSWITCH,
    DistributedPortGroup,
    DistributedSwitch,
    PortGroup,
    ResourcePool,
    VsphereDatastore,
    drs_of,
)
from dcsim_vmware.rest.models import (
    ClusterSummary,
    ConnectionState,
    DatacenterSummary,
    DatastoreSummary,
    HostPowerState,
    HostSummary,
    NetworkSummary,
    NetworkType,
)

GIB = 2**30

#: ``?datacenter=``, ``?cluster=``: an id or a name; an unknown one is a 404.
RefQuery = Annotated[str | None, QueryParameter(description="An id or a name", min_length=1, max_length=128)]


def find_datacenter(world: World, ref: str) -> Datacenter:
    """The vSphere datacenter ``ref`` (id or name); NotFound for any other."""
    found = world.find(Datacenter, ref)
    if found is None or found.platform != PLATFORM:
        raise NotFound(f"no vSphere datacenter {ref!r}")
    return found


def find_cluster(world: World, ref: str) -> Cluster:
    """The vSphere cluster ``ref`` (id or name); NotFound for any other."""
    found = world.find(Cluster, ref)
    if found is None or found.platform != PLATFORM:
        raise NotFound(f"no vSphere cluster {ref!r}")
    return found


def find_host(world: World, ref: str) -> Host:
    """The ESXi host ``ref`` (id or name); NotFound for a host of another platform."""
    found = world.find(Host, ref)
    if found is None or world.get(Cluster, found.cluster_id).platform != PLATFORM:
        raise NotFound(f"no ESXi host {ref!r}")
    return found


def find_pool(world: World, ref: str) -> ResourcePool:
    """The resource pool ``ref`` (id or name)."""
    found = world.find(ResourcePool, ref)
    if found is None:
        raise NotFound(f"no resource pool {ref!r}")
    return found


def clusters(world: World) -> list[Cluster]:
    """Every vSphere cluster."""
    return [c for c in world.all(Cluster) if c.platform == PLATFORM]


def hosts(world: World) -> list[Host]:
    """Every ESXi host, in cluster order."""
    return [h for c in clusters(world) for h in world.hosts_in(c)]


def host_summary(world: World, found: Host) -> HostSummary:
    """``found`` as ``/vcenter/host`` lists it."""
    connection: ConnectionState = "DISCONNECTED" if found.status is HealthStatus.FAILED else "CONNECTED"
    power: HostPowerState = "POWERED_ON" if found.power_state is PowerState.ON else "POWERED_OFF"
    return HostSummary(host=found.id, name=found.name, cluster=found.cluster_id, connection_state=connection,
                       power_state=power, cpu_cores=found.cpu_cores, memory_size_MiB=found.memory_mb)  # fmt: skip


def cluster_summary(world: World, found: Cluster) -> ClusterSummary:
    """``found`` with its HA, DRS and resource pools."""
    drs = drs_of(world, found)
    pools = sorted(p.name for p in world.all(ResourcePool) if p.cluster_id == found.id)
    return ClusterSummary(cluster=found.id, name=found.name, datacenter=found.datacenter_id,
                          ha_enabled=found.ha_enabled, drs_enabled=bool(drs and drs.enabled),
                          drs_behavior=drs.behavior if drs else None, resource_pools=pools)  # fmt: skip


def datastores(world: World) -> list[DatastoreSummary]:
    """The datastores of vSphere datacenters under their vSphere names."""
    sites = {dc.id for dc in world.all(Datacenter) if dc.platform == PLATFORM}
    views = {v.datastore_id: v for v in world.all(VsphereDatastore)}
    found = []
    for store in world.all(Datastore):
        if store.datacenter_id not in sites:
            continue
        view = views.get(store.id)
        found.append(
            DatastoreSummary(
                datastore=store.id,
                name=view.name if view else store.name,
                type=view.type if view else "VMFS",
                capacity=store.capacity_gb * GIB,
                free_space=max(0, store.capacity_gb - store.used_gb) * GIB,
            )
        )
    return found


def networks(world: World) -> list[NetworkSummary]:
    """Standard port groups (a vSphere network without one counts as one on vSwitch0)
    and distributed port groups."""
    standard = {g.network_id: g for g in world.all(PortGroup)}
    found = []
    for network in world.all(Network):
        if network.platform != PLATFORM:
            continue
        group = standard.get(network.id)
        found.append(
            NetworkSummary(
                network=network.id,
                name=group.name if group else network.name,
                type="STANDARD_PORTGROUP",
                vlan=network.vlan,
                switch=group.vswitch if group else VSWITCH,
            )
        )
    for distributed in world.all(DistributedPortGroup):
        switch = world.get(DistributedSwitch, distributed.switch_id)
        found.append(NetworkSummary(network=distributed.id, name=distributed.name, type="DISTRIBUTED_PORTGROUP",
                                    vlan=distributed.vlan, switch=switch.name))  # fmt: skip
    return found


class InventoryController(Controller):
    """vSphere's inventory: datacenters, clusters, hosts, datastores, networks."""

    path = "/vcenter"
    tags = ["vcenter"]

    @get("/datacenter", summary="vSphere datacenters", responses=responses())
    async def list_datacenters(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[DatacenterSummary]:
        found = [d for d in dcsim.sim.world.all(Datacenter) if d.platform == PLATFORM]
        return page([DatacenterSummary(datacenter=d.id, name=d.name) for d in found], limit, offset)

    @get("/cluster", summary="vSphere clusters with HA, DRS and resource pools", responses=responses(404))
    async def list_clusters(
        self,
        dcsim: NamedDependency[DcSim],
        datacenter: RefQuery = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[ClusterSummary]:
        world = dcsim.sim.world
        dc_id = find_datacenter(world, datacenter).id if datacenter else None
        found = [c for c in clusters(world) if dc_id is None or c.datacenter_id == dc_id]
        return page([cluster_summary(world, c) for c in found], limit, offset)

    @get("/host", summary="ESXi hosts (DISCONNECTED while failed)", responses=responses(404))
    async def list_hosts(
        self,
        dcsim: NamedDependency[DcSim],
        cluster: RefQuery = None,
        connection_state: FromQuery[ConnectionState | None] = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[HostSummary]:
        world = dcsim.sim.world
        cluster_id = find_cluster(world, cluster).id if cluster else None
        found = [host_summary(world, h) for h in hosts(world) if cluster_id is None or h.cluster_id == cluster_id]
        return page([h for h in found if connection_state in (None, h.connection_state)], limit, offset)

    @get("/datastore", summary="Datastores, under their vSphere names", responses=responses())
    async def list_datastores(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[DatastoreSummary]:
        return page(datastores(dcsim.sim.world), limit, offset)

    @get("/network", summary="Standard and distributed port groups", responses=responses())
    async def list_networks(
        self,
        dcsim: NamedDependency[DcSim],
        type: FromQuery[NetworkType | None] = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[NetworkSummary]:
        found = networks(dcsim.sim.world)
        return page([n for n in found if type in (None, n.type)], limit, offset)


__all__ = [
    "InventoryController",
    "cluster_summary",
    "clusters",
    "datastores",
    "find_cluster",
    "find_datacenter",
    "find_host",
    "find_pool",
    "host_summary",
    "hosts",
    "networks",
]
