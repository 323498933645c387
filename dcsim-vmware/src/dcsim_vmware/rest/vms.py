"""``/vcenter/vm``: vSphere's VMs in the simulation, read from the world and changed
through the engine's VM lifecycle (``dcsim.sim``), like ``/sim/vms``.

A change made here is a simulation change: its events go on the bus and the vCenter
sync carries it to vCenter. vSphere's own rules apply on top of the engine's: a VM is
created powered off unless asked otherwise, and deleted only when powered off.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from dcsim.app import DcSim
from dcsim.errors import Conflict, InvalidInput, NotFound
from dcsim.sim.engine import VmRequest
from dcsim.sim.model import Cluster, Datastore, GuestOs, Host, Network, PowerState, Vm
from dcsim.sim.world import World
from dcsim.web.contracts import LimitQuery, OffsetQuery, Page, page, responses
from dcsim.web.idempotency import IdempotentOperation, idempotent
from dcsim_vmware.model import (
    PLATFORM,
    ROOT_POOL,
    DistributedPortGroup,
    PortGroup,
    ResourcePool,
    datastore_name,
    pool_of,
)
from dcsim_vmware.rest.inventory import RefQuery, find_cluster, find_datacenter, find_host, find_pool
from dcsim_vmware.rest.metrics import metric_names, vm_samples
from dcsim_vmware.rest.models import (
    GUEST_IDS,
    GUESTS,
    CpuInfo,
    CpuUpdate,
    DiskInfo,
    GuestOsId,
    Hardware,
    MemoryInfo,
    MemoryUpdate,
    NicInfo,
    PowerInfo,
    PowerRequest,
    VmCreate,
    VmInfo,
    VmMetrics,
    VmPowerState,
    VmSummary,
)

GIB = 2**30
#: The virtual hardware version the simulated VMs report (vSphere 7.0 U2's).
HARDWARE_VERSION = "VMX_19"
#: ``POST .../power`` actions as the engine names them.
POWER_ACTIONS = {"start": "on", "stop": "off", "suspend": "suspend", "reset": "reset"}
POWER_STATES: dict[PowerState, VmPowerState] = {
    PowerState.ON: "POWERED_ON",
    PowerState.OFF: "POWERED_OFF",
    PowerState.SUSPENDED: "SUSPENDED",
}

#: ``?names=``: counters, comma-separated.
NamesQuery = Annotated[
    str | None,
    QueryParameter(
        description="Counters, comma-separated: cpu.usage, mem.usage (percent), disk.usage, disk.read, disk.write,"
        " net.usage (KBps); every one when absent",
        max_length=200,
    ),
]


def find_vm(world: World, ref: str) -> Vm:
    """The vSphere VM ``ref`` (id or name); NotFound for a VM of another platform."""
    found = world.find(Vm, ref)
    if found is None or found.platform != PLATFORM:
        raise NotFound(f"no vSphere VM {ref!r}")
    return found


def guest_of(vm: Vm) -> GuestOsId | None:
    """vSphere's guest OS identifier of ``vm``, None for a guest it has no name for."""
    value = vm.node.guest_os.value if vm.node else vm.tags.get("os")
    try:
        return GUEST_IDS.get(GuestOs(value)) if value else None
    except ValueError:
        return None


def summary(vm: Vm) -> VmSummary:
    """``vm`` as ``GET /vcenter/vm`` lists it."""
    return VmSummary(vm=vm.id, name=vm.name, power_state=POWER_STATES[vm.power_state], cpu_count=vm.cpu,
                     memory_size_MiB=vm.memory_mb)  # fmt: skip


def cpu_info(vm: Vm) -> CpuInfo:
    """``vm``'s CPUs: one core per socket, no hot add or remove (the engine reconfigures powered-off VMs)."""
    return CpuInfo(count=vm.cpu, cores_per_socket=1, hot_add_enabled=False, hot_remove_enabled=False)


def memory_info(vm: Vm) -> MemoryInfo:
    """``vm``'s memory, without hot add."""
    return MemoryInfo(size_MiB=vm.memory_mb, hot_add_enabled=False)


def hardware(world: World, vm: Vm) -> Hardware:
    """``vm``'s virtual hardware."""
    disks = []
    for disk in vm.disks:
        store = world.find(Datastore, disk.datastore_id) if disk.datastore_id else None
        disks.append(DiskInfo(label=disk.label, capacity=disk.size_gb * GIB,
                              datastore=datastore_name(world, store) if store else None))  # fmt: skip
    nics = [
        NicInfo(label=f"Network adapter {n}", mac_address=nic.mac, network=nic.network_id, ip_address=nic.ip)
        for n, nic in enumerate(vm.nics, start=1)
    ]
    return Hardware(version=HARDWARE_VERSION, cpu=cpu_info(vm), memory=memory_info(vm), disks=disks, nics=nics)


def info(world: World, vm: Vm) -> VmInfo:
    """One VM as ``GET /vcenter/vm/{vm}`` shows it."""
    host = world.get(Host, vm.host_id)
    cluster = world.get(Cluster, host.cluster_id)
    pool = pool_of(world, vm)
    return VmInfo(vm=vm.id, name=vm.name, guest_OS=guest_of(vm), power_state=POWER_STATES[vm.power_state],
                  host=host.id, cluster=cluster.id, datacenter=cluster.datacenter_id,
                  resource_pool=pool.name if pool else ROOT_POOL, hardware=hardware(world, vm))  # fmt: skip


def _placement(world: World, data: VmCreate) -> tuple[Host | None, Cluster, ResourcePool | None]:
    """The host (if named), cluster and pool of a new VM; they must agree."""
    wanted = data.placement
    pool = find_pool(world, wanted.resource_pool) if wanted.resource_pool else None
    host = find_host(world, wanted.host) if wanted.host else None
    named = find_cluster(world, wanted.cluster) if wanted.cluster else None
    clusters = {c for c in (named.id if named else None, host.cluster_id if host else None,
                            pool.cluster_id if pool else None) if c}  # fmt: skip
    if not clusters:
        raise InvalidInput("placement names no host, cluster or resource pool",
                           errors=[{"field": "placement", "message": "give host, cluster or resource_pool"}])  # fmt: skip
    if len(clusters) > 1:
        raise InvalidInput("the host, cluster and resource pool of placement are in different clusters",
                           errors=[{"field": "placement", "message": "host, cluster and resource_pool disagree"}])  # fmt: skip
    return host, world.get(Cluster, clusters.pop()), pool


def _network(world: World, cluster: Cluster, name: str | None) -> str | None:
    """The core network a new VM's NIC joins: a port group's (standard or distributed) of the cluster's datacenter."""
    if name is None:
        return None
    group = world.find(PortGroup, name)
    network = world.find(Network, group.network_id if group else name)
    if network is None:
        distributed = world.find(DistributedPortGroup, name)
        network = world.find(Network, distributed.network_id or "") if distributed else None
    if network is None or network.datacenter_id != cluster.datacenter_id or network.platform != PLATFORM:
        raise NotFound(f"no port group {name!r} in the datacenter of {cluster.name}")
    return network.name


class VmController(Controller):
    """vSphere VMs: list, create, read, delete, power, hardware and metrics."""

    path = "/vcenter/vm"
    tags = ["vcenter"]

    @get("/", summary="vSphere VMs, filtered and paginated (an unknown filter object: 404)", responses=responses(404))
    async def list_vms(
        self,
        dcsim: NamedDependency[DcSim],
        power_state: FromQuery[VmPowerState | None] = None,
        host: RefQuery = None,
        cluster: RefQuery = None,
        datacenter: RefQuery = None,
        resource_pool: RefQuery = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[VmSummary]:
        world = dcsim.sim.world
        host_id = find_host(world, host).id if host else None
        cluster_id = find_cluster(world, cluster).id if cluster else None
        dc_id = find_datacenter(world, datacenter).id if datacenter else None
        members = set(find_pool(world, resource_pool).vm_ids) if resource_pool else None
        found = []
        for vm in world.all(Vm):
            if vm.platform != PLATFORM or (members is not None and vm.id not in members):
                continue
            if power_state and POWER_STATES[vm.power_state] != power_state:
                continue
            placed_on = world.get(Host, vm.host_id)
            in_cluster = world.get(Cluster, placed_on.cluster_id)
            if host_id not in (None, placed_on.id) or cluster_id not in (None, in_cluster.id):
                continue
            if dc_id not in (None, in_cluster.datacenter_id):
                continue
            found.append(summary(vm))
        return page(found, limit, offset)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Create a VM (powered off unless power_on)",
        responses=responses(404, 409, 503, body=True),
        middleware=[idempotent],
        operation_class=IdempotentOperation,
    )
    async def create_vm(self, dcsim: NamedDependency[DcSim], data: JSONBody[VmCreate]) -> VmInfo:
        world = dcsim.sim.world
        host, cluster, pool = _placement(world, data)
        request = VmRequest(name=data.name, cpu=data.cpu.count, memory_mb=data.memory.size_MiB,
                            guest_os=GUESTS[data.guest_OS], host=host.name if host else None, cluster=cluster.name,
                            network=_network(world, cluster, data.network), disk_gb=data.disk_GiB,
                            power_on=data.power_on)  # fmt: skip
        vm = await dcsim.sim.create_vm(request)
        if pool is not None:
            async with dcsim.sim.transaction() as change:
                pool.vm_ids.append(vm.id)
                change.save(pool)
        return info(world, vm)

    @get("/{vm:str}", summary="One VM, by id or name", responses=responses(404))
    async def get_vm(self, dcsim: NamedDependency[DcSim], vm: FromPath[str]) -> VmInfo:
        return info(dcsim.sim.world, find_vm(dcsim.sim.world, vm))

    @delete(
        "/{vm:str}",
        status_code=HTTP_200_OK,
        summary="Delete a powered-off VM",
        opt={"role": "operator"},
        responses=responses(404, 409, 503),
    )
    async def delete_vm(self, dcsim: NamedDependency[DcSim], vm: FromPath[str]) -> VmSummary:
        world = dcsim.sim.world
        found = find_vm(world, vm)
        if found.power_state is not PowerState.OFF:
            raise Conflict(f"{found.name} is {found.power_state.value}: power it off before deleting it")
        gone = await dcsim.sim.destroy_vm(found.id)
        pool = pool_of(world, gone)
        if pool is not None:
            async with dcsim.sim.transaction() as change:
                pool.vm_ids.remove(gone.id)
                change.save(pool)
        return summary(gone)

    @get("/{vm:str}/power", summary="A VM's power state", responses=responses(404))
    async def get_power(self, dcsim: NamedDependency[DcSim], vm: FromPath[str]) -> PowerInfo:
        return PowerInfo(state=POWER_STATES[find_vm(dcsim.sim.world, vm).power_state])

    @post(
        "/{vm:str}/power",
        status_code=HTTP_200_OK,
        summary="Start, stop, suspend or reset a VM",
        responses=responses(404, 409, 503, body=True),
    )
    async def power(self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[PowerRequest]) -> PowerInfo:
        found = find_vm(dcsim.sim.world, vm)
        changed = await dcsim.sim.power(found.id, POWER_ACTIONS[data.action])
        return PowerInfo(state=POWER_STATES[changed.power_state])

    @get("/{vm:str}/hardware", summary="A VM's virtual hardware", responses=responses(404))
    async def get_hardware(self, dcsim: NamedDependency[DcSim], vm: FromPath[str]) -> Hardware:
        world = dcsim.sim.world
        return hardware(world, find_vm(world, vm))

    @patch(
        "/{vm:str}/hardware/cpu",
        summary="Set a powered-off VM's CPU count",
        responses=responses(404, 409, 503, body=True),
    )
    async def set_cpu(self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[CpuUpdate]) -> CpuInfo:
        found = find_vm(dcsim.sim.world, vm)
        return cpu_info(await dcsim.sim.reconfigure(found.id, cpu=data.count))

    @patch(
        "/{vm:str}/hardware/memory",
        summary="Set a powered-off VM's memory",
        responses=responses(404, 409, 503, body=True),
    )
    async def set_memory(
        self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[MemoryUpdate]
    ) -> MemoryInfo:
        found = find_vm(dcsim.sim.world, vm)
        return memory_info(await dcsim.sim.reconfigure(found.id, memory_mb=data.size_MiB))

    @get("/{vm:str}/metrics", summary="A VM's counters now, from the simulated metrics", responses=responses(404))
    async def metrics(self, dcsim: NamedDependency[DcSim], vm: FromPath[str], names: NamesQuery = None) -> VmMetrics:
        found = find_vm(dcsim.sim.world, vm)
        wanted = metric_names(names)
        now = datetime.now(UTC)
        samples = vm_samples(dcsim, found, wanted, now.timestamp())
        return VmMetrics(vm=found.id, name=found.name, timestamp=now.isoformat(), samples=samples)


__all__ = ["VmController", "find_vm", "hardware", "info"]
