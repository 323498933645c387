"""The ``/sim`` REST API: a thin skin over :class:`dcsim.sim.engine.Simulation`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import attrs
import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from dcsim.app import DcSim
from dcsim.sim.engine import VmRequest
from dcsim.sim.faults import Fault
from dcsim.sim.model import (
    CORE_KINDS,
    Cluster,
    Datacenter,
    Datastore,
    GuestOs,
    HealthStatus,
    Host,
    Network,
    PowerState,
    Snapshot,
    Vm,
)
from dcsim.web.contracts import (
    DiskGb,
    Label,
    LimitQuery,
    MemoryMb,
    Model,
    Name,
    OffsetQuery,
    Page,
    Port,
    Tags,
    Text,
    ValidationFailed,
    Vcpus,
    convert_strict,
    page,
    responses,
    strict_body,
)
from dcsim.web.idempotency import IdempotentOperation, idempotent

PowerAction = Literal["on", "off", "suspend", "reset"]


class VmCreate(Model):
    """Body of ``POST /sim/vms``."""

    name: Name
    cpu: Vcpus = 2
    memory_mb: MemoryMb = 4096
    guest_os: GuestOs = GuestOs.RHEL9
    host: Name | None = None
    cluster: Name | None = None
    network: Name | None = None
    disk_gb: DiskGb = 40
    power_on: bool = True
    load_profile: Name = "normal"
    tags: Tags = msgspec.field(default_factory=dict)
    node: Annotated[bool, msgspec.Meta(description="Back the VM with a reachable guest node")] = False
    ssh_port: Port | None = None


class PowerRequest(Model):
    """Body of ``POST /sim/vms/{vm}/power``."""

    action: PowerAction


class SnapshotRequest(Model):
    """Body of ``POST /sim/vms/{vm}/snapshots``."""

    name: Label
    description: Text = ""


class CloneRequest(Model):
    """Body of ``POST /sim/vms/{vm}/clone``."""

    name: Name
    host: Name | None = None


class MigrateRequest(Model):
    """Body of ``POST /sim/vms/{vm}/migrate``."""

    host: Name


class ReconfigureRequest(Model):
    """Body of ``PATCH /sim/vms/{vm}``: at least one field."""

    cpu: Vcpus | None = None
    memory_mb: MemoryMb | None = None
    load_profile: Name | None = None


class HostSummary(msgspec.Struct, kw_only=True):
    """A hypervisor host, with how many VMs it runs."""

    id: str
    name: str
    cluster_id: str
    cpu_cores: int
    memory_mb: int
    power_state: PowerState
    status: HealthStatus
    blade_id: str | None
    booted_at: datetime
    vm_count: int


class HostDetail(msgspec.Struct, kw_only=True):
    """A hypervisor host and the names of its VMs."""

    id: str
    name: str
    cluster_id: str
    cpu_cores: int
    memory_mb: int
    power_state: PowerState
    status: HealthStatus
    blade_id: str | None
    booted_at: datetime
    vms: list[str]


class FaultKind(msgspec.Struct):
    """A kind of fault that can be injected, and its parameters."""

    name: str
    description: str
    params: Annotated[dict[str, str], msgspec.Meta(description="Each parameter and its meaning")]
    types: Annotated[
        dict[str, str], msgspec.Meta(description="Each parameter's JSON type: string, number, integer, boolean")
    ]


#: ``POST /sim/inject/{kind}``: the kind's own parameters, checked in the handler.
FaultParams = Annotated[
    dict[str, Any],
    Body(
        title="Fault parameters",
        description=(
            "The fault kind's parameters, each optional unless the kind needs it (GET /sim/inject/kinds lists"
            " them, their meaning and JSON type). Checked strictly against the kind: a parameter it does not"
            " declare, or a value of another type, is a 422 naming the parameter; no value is coerced."
        ),
    ),
]

#: Object kinds core registers; plugins register more (``dcsim_sim_register_kinds``).
_CORE_KIND_NAMES = ", ".join(CORE_KINDS)


class WorldState(msgspec.Struct):
    """The whole simulated world and its active faults (``GET /sim/state``)."""

    objects: Annotated[
        dict[str, list[dict[str, Any]]],
        msgspec.Meta(
            description=(
                "Every object by kind: kind -> the kind's objects as JSON, each with at least id and name."
                f" Core kinds: {_CORE_KIND_NAMES}; plugins register more (a vendor package's own objects)."
                " An object has the fields of its kind's model (GET /sim/vms shows a Vm)."
            )
        ),
    ]
    faults: Annotated[list[Fault], msgspec.Meta(description="The active faults, oldest first")]


class DiffObject(msgspec.Struct):
    """An object added or removed since the known-good mark."""

    kind: Annotated[str, msgspec.Meta(description=f"The object's kind ({_CORE_KIND_NAMES}, or a plugin's)")]
    id: str
    name: str


class DiffChange(msgspec.Struct):
    """One field of one object that changed since the known-good mark."""

    kind: Annotated[str, msgspec.Meta(description="The object's kind")]
    id: str
    name: Annotated[str, msgspec.Meta(description="The object's name now")]
    field: Annotated[str, msgspec.Meta(description="The field that changed")]
    before: Annotated[Any, msgspec.Meta(description="The field's JSON value at the mark (null: absent)")]
    after: Annotated[Any, msgspec.Meta(description="The field's JSON value now (null: absent)")]


class StateDiff(msgspec.Struct):
    """What changed since the known-good mark (``GET /sim/state/diff``)."""

    marked_at: Annotated[str, msgspec.Meta(description="When the mark was taken (RFC 3339)")]
    added: list[DiffObject]
    removed: list[DiffObject]
    changed: list[DiffChange]


class MarkResult(msgspec.Struct):
    """When the known-good mark was taken."""

    marked_at: datetime


def _host_fields(host: Host) -> dict[str, Any]:
    return {field.name: getattr(host, field.name) for field in attrs.fields(Host)}


async def fresh_world(request: Request[Any, Any, Any]) -> None:
    """The ``/sim`` controllers' ``before_request``: before a read, the world reflects
    every world write committed so far by any process (one point read of the store on a
    shared store, nothing on SQLite); then the app's own strict body check."""
    if request.method in ("GET", "HEAD"):
        await request.app.state.dcsim.sim.sync.fresh()
    await strict_body(request)


class VmController(Controller):
    """VMs and instances: list, create, power, snapshots, clone, migrate, reconfigure."""

    path = "/sim/vms"
    tags = ["sim"]
    before_request = fresh_world  # type: ignore[assignment]  # litestar unbinds it

    @get(
        "/",
        summary="VMs, filtered and paginated (a host or cluster that does not exist: 404)",
        responses=responses(404),
    )
    async def list_vms(
        self,
        dcsim: NamedDependency[DcSim],
        platform: FromQuery[str | None] = None,
        power_state: FromQuery[Literal["on", "off", "suspended"] | None] = None,
        host: FromQuery[str | None] = None,
        cluster: FromQuery[str | None] = None,
        guest_os: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[Vm]:
        vms = dcsim.sim.list_vms(
            platform=platform, power_state=power_state, host=host, cluster=cluster, guest_os=guest_os, tag=tag, q=q
        )
        return page(vms, limit, offset)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Create a VM",
        responses=responses(404, 409, 503, body=True),
        middleware=[idempotent],
        operation_class=IdempotentOperation,
    )
    async def create_vm(self, dcsim: NamedDependency[DcSim], data: JSONBody[VmCreate]) -> Vm:
        return await dcsim.sim.create_vm(VmRequest(**msgspec.structs.asdict(data)))

    @get("/{vm:str}", summary="One VM, by id or name", responses=responses(404))
    async def get_vm(self, dcsim: NamedDependency[DcSim], vm: FromPath[str]) -> Vm:
        return dcsim.sim.vm(vm)

    @delete("/{vm:str}", status_code=HTTP_200_OK, summary="Destroy a VM", responses=responses(404, 409, 503))
    async def destroy_vm(self, dcsim: NamedDependency[DcSim], vm: FromPath[str]) -> Vm:
        return await dcsim.sim.destroy_vm(vm)

    @patch(
        "/{vm:str}",
        summary="Reconfigure CPU and memory (powered off), or the load profile",
        responses=responses(404, 409, 503, body=True),
    )
    async def reconfigure(
        self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[ReconfigureRequest]
    ) -> Vm:
        if data.cpu is None and data.memory_mb is None and data.load_profile is None:
            raise ValidationFailed(
                "give cpu, memory_mb or load_profile",
                errors=[{"field": "", "message": "give at least one of cpu, memory_mb, load_profile"}],
            )
        result = dcsim.sim.vm(vm)
        if data.cpu is not None or data.memory_mb is not None:
            result = await dcsim.sim.reconfigure(vm, cpu=data.cpu, memory_mb=data.memory_mb)
        if data.load_profile is not None:
            result = await dcsim.sim.set_load_profile(vm, data.load_profile)
        return result

    @post(
        "/{vm:str}/power",
        status_code=HTTP_200_OK,
        summary="Power on, off, suspend or reset",
        responses=responses(404, 409, 503, body=True),
    )
    async def power(self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[PowerRequest]) -> Vm:
        return await dcsim.sim.power(vm, data.action)

    @get("/{vm:str}/snapshots", summary="A VM's snapshots", responses=responses(404))
    async def list_snapshots(self, dcsim: NamedDependency[DcSim], vm: FromPath[str]) -> list[Snapshot]:
        return dcsim.sim.vm(vm).snapshots

    @post(
        "/{vm:str}/snapshots",
        status_code=HTTP_201_CREATED,
        summary="Take a snapshot",
        responses=responses(404, 409, 503, body=True),
    )
    async def create_snapshot(
        self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[SnapshotRequest]
    ) -> Snapshot:
        return await dcsim.sim.create_snapshot(vm, data.name, data.description)

    @post(
        "/{vm:str}/snapshots/{snapshot:str}/revert",
        status_code=HTTP_200_OK,
        summary="Revert to a snapshot",
        responses=responses(404, 409, 503),
    )
    async def revert_snapshot(self, dcsim: NamedDependency[DcSim], vm: FromPath[str], snapshot: FromPath[str]) -> Vm:
        return await dcsim.sim.revert_snapshot(vm, snapshot)

    @delete(
        "/{vm:str}/snapshots/{snapshot:str}",
        status_code=HTTP_200_OK,
        summary="Delete a snapshot",
        responses=responses(404, 409, 503),
    )
    async def delete_snapshot(self, dcsim: NamedDependency[DcSim], vm: FromPath[str], snapshot: FromPath[str]) -> Vm:
        return await dcsim.sim.delete_snapshot(vm, snapshot)

    @post(
        "/{vm:str}/clone",
        status_code=HTTP_201_CREATED,
        summary="Clone into a new powered-off VM",
        responses=responses(404, 409, 503, body=True),
    )
    async def clone(self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[CloneRequest]) -> Vm:
        return await dcsim.sim.clone(vm, data.name, data.host)

    @post(
        "/{vm:str}/migrate",
        status_code=HTTP_200_OK,
        summary="Move to another host (vMotion-like)",
        responses=responses(404, 409, 503, body=True),
    )
    async def migrate(self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[MigrateRequest]) -> Vm:
        return await dcsim.sim.migrate(vm, data.host)


class InventoryController(Controller):
    """The estate's structure: datacenters, clusters, hosts, datastores, networks."""

    path = "/sim"
    tags = ["sim"]
    before_request = fresh_world  # type: ignore[assignment]  # litestar unbinds it

    @get("/datacenters", summary="Datacenters and regions", responses=responses())
    async def datacenters(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[Datacenter]:
        return page(dcsim.sim.world.all(Datacenter), limit, offset)

    @get("/clusters", summary="Clusters and availability zones", responses=responses())
    async def clusters(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[Cluster]:
        return page(dcsim.sim.world.all(Cluster), limit, offset)

    @get("/hosts", summary="Hypervisor hosts, with how many VMs each runs", responses=responses())
    async def hosts(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[HostSummary]:
        world = dcsim.sim.world
        found = page(world.all(Host), limit, offset)
        items = [HostSummary(**_host_fields(h), vm_count=len(world.vms_on(h))) for h in found.items]
        return Page(items=items, total=found.total, limit=limit, offset=offset)

    @get("/hosts/{host:str}", summary="One host and its VMs", responses=responses(404))
    async def host(self, dcsim: NamedDependency[DcSim], host: FromPath[str]) -> HostDetail:
        world = dcsim.sim.world
        found = world.get(Host, host)
        return HostDetail(**_host_fields(found), vms=[vm.name for vm in world.vms_on(found)])

    @get("/datastores", summary="Datastores", responses=responses())
    async def datastores(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[Datastore]:
        return page(dcsim.sim.world.all(Datastore), limit, offset)

    @get("/networks", summary="Networks", responses=responses())
    async def networks(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[Network]:
        return page(dcsim.sim.world.all(Network), limit, offset)

    @get("/state", summary="The whole simulated world, by kind, and its active faults", responses=responses())
    async def state(self, dcsim: NamedDependency[DcSim]) -> WorldState:
        return WorldState(objects=dcsim.sim.world.dump(), faults=dcsim.sim.active_faults())

    @post(
        "/state/mark",
        status_code=HTTP_200_OK,
        summary="Remember now as the known-good state",
        responses=responses(503),
    )
    async def mark(self, dcsim: NamedDependency[DcSim]) -> MarkResult:
        return MarkResult(marked_at=await dcsim.sim.mark_known_good())

    @get("/state/diff", summary="What changed since the known-good mark, field by field", responses=responses(409))
    async def diff(self, dcsim: NamedDependency[DcSim]) -> StateDiff:
        return msgspec.convert(await dcsim.sim.diff(), StateDiff)


class FaultController(Controller):
    """Failure injection: every fault is recorded, listed and cleared here."""

    path = "/sim/inject"
    tags = ["sim"]
    before_request = fresh_world  # type: ignore[assignment]  # litestar unbinds it

    @get("/", summary="Active faults (all=true: every fault ever injected)", responses=responses())
    async def list_faults(
        self,
        dcsim: NamedDependency[DcSim],
        all: FromQuery[bool] = False,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[Fault]:
        faults = sorted(dcsim.sim.faults.values(), key=lambda f: f.injected_at) if all else dcsim.sim.active_faults()
        return page(faults, limit, offset)

    @get("/kinds", summary="The fault kinds that can be injected, with their parameters", responses=responses())
    async def kinds(self, dcsim: NamedDependency[DcSim]) -> list[FaultKind]:
        return [
            FaultKind(kind.name, kind.description, dict(kind.params), kind.json_types())
            for kind in dcsim.sim.fault_kinds
        ]

    @post(
        "/{kind:str}",
        status_code=HTTP_201_CREATED,
        summary="Inject a fault of a kind (its parameters: GET /sim/inject/kinds)",
        responses=responses(404, 409, 503, body=True),
    )
    async def inject(self, dcsim: NamedDependency[DcSim], kind: FromPath[str], data: JSONBody[FaultParams]) -> Fault:
        convert_strict(data, dcsim.sim.fault_kinds.get(kind).model)
        return await dcsim.sim.inject(kind, data)

    @delete(
        "/{fault_id:str}",
        status_code=HTTP_200_OK,
        summary="Clear a fault",
        opt={"role": "operator"},
        responses=responses(404, 409, 503),
    )
    async def clear(self, dcsim: NamedDependency[DcSim], fault_id: FromPath[str]) -> Fault:
        return await dcsim.sim.clear_fault(fault_id)


HANDLERS = (VmController, InventoryController, FaultController)
