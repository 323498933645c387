"""The ``/sim`` REST API: a thin skin over :class:`dcsim.sim.engine.Simulation`."""

from __future__ import annotations

from typing import Any

import attrs
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from dcsim.app import DcSim
from dcsim.convert import from_json, to_json
from dcsim.errors import InvalidInput
from dcsim.sim.engine import VmRequest
from dcsim.sim.model import Cluster, Datacenter, Datastore, Host, Network
from dcsim.web.paging import page


@attrs.frozen
class PowerRequest:
    """Body of ``POST /sim/vms/{vm}/power``."""

    action: str


@attrs.frozen
class SnapshotRequest:
    """Body of ``POST /sim/vms/{vm}/snapshots``."""

    name: str
    description: str = ""


@attrs.frozen
class CloneRequest:
    """Body of ``POST /sim/vms/{vm}/clone``."""

    name: str
    host: str | None = None


@attrs.frozen
class MigrateRequest:
    """Body of ``POST /sim/vms/{vm}/migrate``."""

    host: str


@attrs.frozen
class ReconfigureRequest:
    """Body of ``PATCH /sim/vms/{vm}``."""

    cpu: int | None = None
    memory_mb: int | None = None
    load_profile: str | None = None


class VmController(Controller):
    """VMs and instances: list, create, power, snapshots, clone, migrate, reconfigure."""

    path = "/sim/vms"
    tags = ["sim"]

    @get("/", summary="VMs, filtered and paginated")
    async def list_vms(
        self,
        dcsim: NamedDependency[DcSim],
        platform: FromQuery[str | None] = None,
        power_state: FromQuery[str | None] = None,
        host: FromQuery[str | None] = None,
        cluster: FromQuery[str | None] = None,
        guest_os: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
        offset: FromQuery[int] = 0,
    ) -> dict[str, Any]:
        vms = dcsim.sim.list_vms(
            platform=platform, power_state=power_state, host=host, cluster=cluster, guest_os=guest_os, tag=tag, q=q
        )
        return page(vms, limit, offset)

    @post("/", status_code=HTTP_201_CREATED, summary="Create a VM")
    async def create_vm(self, dcsim: NamedDependency[DcSim], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        return to_json(await dcsim.sim.create_vm(from_json(data, VmRequest)))  # type: ignore[no-any-return]

    @get("/{vm:str}", summary="One VM, by id or name")
    async def get_vm(self, dcsim: NamedDependency[DcSim], vm: FromPath[str]) -> dict[str, Any]:
        return to_json(dcsim.sim.vm(vm))  # type: ignore[no-any-return]

    @delete("/{vm:str}", status_code=HTTP_200_OK, summary="Destroy a VM")
    async def destroy_vm(self, dcsim: NamedDependency[DcSim], vm: FromPath[str]) -> dict[str, Any]:
        return to_json(await dcsim.sim.destroy_vm(vm))  # type: ignore[no-any-return]

    @patch("/{vm:str}", summary="Reconfigure CPU and memory (powered off), or the load profile")
    async def reconfigure(
        self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        body = from_json(data, ReconfigureRequest)
        if body.cpu is None and body.memory_mb is None and body.load_profile is None:
            raise InvalidInput("give cpu, memory_mb or load_profile")
        result = dcsim.sim.vm(vm)
        if body.cpu is not None or body.memory_mb is not None:
            result = await dcsim.sim.reconfigure(vm, cpu=body.cpu, memory_mb=body.memory_mb)
        if body.load_profile is not None:
            result = await dcsim.sim.set_load_profile(vm, body.load_profile)
        return to_json(result)  # type: ignore[no-any-return]

    @post("/{vm:str}/power", status_code=HTTP_200_OK, summary="Power on, off, suspend or reset")
    async def power(
        self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        return to_json(await dcsim.sim.power(vm, from_json(data, PowerRequest).action))  # type: ignore[no-any-return]

    @get("/{vm:str}/snapshots", summary="A VM's snapshots")
    async def list_snapshots(self, dcsim: NamedDependency[DcSim], vm: FromPath[str]) -> list[dict[str, Any]]:
        return to_json(dcsim.sim.vm(vm).snapshots)  # type: ignore[no-any-return]

    @post("/{vm:str}/snapshots", status_code=HTTP_201_CREATED, summary="Take a snapshot")
    async def create_snapshot(
        self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        body = from_json(data, SnapshotRequest)
        return to_json(await dcsim.sim.create_snapshot(vm, body.name, body.description))  # type: ignore[no-any-return]

    @post("/{vm:str}/snapshots/{snapshot:str}/revert", status_code=HTTP_200_OK, summary="Revert to a snapshot")
    async def revert_snapshot(
        self, dcsim: NamedDependency[DcSim], vm: FromPath[str], snapshot: FromPath[str]
    ) -> dict[str, Any]:
        return to_json(await dcsim.sim.revert_snapshot(vm, snapshot))  # type: ignore[no-any-return]

    @delete("/{vm:str}/snapshots/{snapshot:str}", status_code=HTTP_200_OK, summary="Delete a snapshot")
    async def delete_snapshot(
        self, dcsim: NamedDependency[DcSim], vm: FromPath[str], snapshot: FromPath[str]
    ) -> dict[str, Any]:
        return to_json(await dcsim.sim.delete_snapshot(vm, snapshot))  # type: ignore[no-any-return]

    @post("/{vm:str}/clone", status_code=HTTP_201_CREATED, summary="Clone into a new powered-off VM")
    async def clone(
        self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        body = from_json(data, CloneRequest)
        return to_json(await dcsim.sim.clone(vm, body.name, body.host))  # type: ignore[no-any-return]

    @post("/{vm:str}/migrate", status_code=HTTP_200_OK, summary="Move to another host (vMotion-like)")
    async def migrate(
        self, dcsim: NamedDependency[DcSim], vm: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        return to_json(await dcsim.sim.migrate(vm, from_json(data, MigrateRequest).host))  # type: ignore[no-any-return]


class InventoryController(Controller):
    """The estate's structure: datacenters, clusters, hosts, datastores, networks."""

    path = "/sim"
    tags = ["sim"]

    @get("/datacenters", summary="Datacenters and regions")
    async def datacenters(self, dcsim: NamedDependency[DcSim]) -> list[dict[str, Any]]:
        return to_json(dcsim.sim.world.all(Datacenter))  # type: ignore[no-any-return]

    @get("/clusters", summary="Clusters and availability zones")
    async def clusters(self, dcsim: NamedDependency[DcSim]) -> list[dict[str, Any]]:
        return to_json(dcsim.sim.world.all(Cluster))  # type: ignore[no-any-return]

    @get("/hosts", summary="Hypervisor hosts, with how many VMs each runs")
    async def hosts(self, dcsim: NamedDependency[DcSim]) -> list[dict[str, Any]]:
        world = dcsim.sim.world
        return [{**to_json(h), "vm_count": len(world.vms_on(h))} for h in world.all(Host)]

    @get("/hosts/{host:str}", summary="One host and its VMs")
    async def host(self, dcsim: NamedDependency[DcSim], host: FromPath[str]) -> dict[str, Any]:
        world = dcsim.sim.world
        found = world.get(Host, host)
        return {**to_json(found), "vms": [vm.name for vm in world.vms_on(found)]}

    @get("/datastores", summary="Datastores")
    async def datastores(self, dcsim: NamedDependency[DcSim]) -> list[dict[str, Any]]:
        return to_json(dcsim.sim.world.all(Datastore))  # type: ignore[no-any-return]

    @get("/networks", summary="Networks")
    async def networks(self, dcsim: NamedDependency[DcSim]) -> list[dict[str, Any]]:
        return to_json(dcsim.sim.world.all(Network))  # type: ignore[no-any-return]

    @get("/state", summary="The whole simulated world and its active faults")
    async def state(self, dcsim: NamedDependency[DcSim]) -> dict[str, Any]:
        return dcsim.sim.state()

    @post("/state/mark", status_code=HTTP_200_OK, summary="Remember now as the known-good state")
    async def mark(self, dcsim: NamedDependency[DcSim]) -> dict[str, str]:
        return {"marked_at": (await dcsim.sim.mark_known_good()).isoformat()}

    @get("/state/diff", summary="What changed since the known-good mark, field by field")
    async def diff(self, dcsim: NamedDependency[DcSim]) -> dict[str, Any]:
        return await dcsim.sim.diff()


class FaultController(Controller):
    """Failure injection: every fault is recorded, listed and cleared here."""

    path = "/sim/inject"
    tags = ["sim"]

    @get("/", summary="Active faults (all=true: every fault ever injected)")
    async def list_faults(self, dcsim: NamedDependency[DcSim], all: FromQuery[bool] = False) -> list[dict[str, Any]]:
        faults = sorted(dcsim.sim.faults.values(), key=lambda f: f.injected_at) if all else dcsim.sim.active_faults()
        return to_json(faults)  # type: ignore[no-any-return]

    @get("/kinds", summary="The fault kinds that can be injected, with their parameters")
    async def kinds(self, dcsim: NamedDependency[DcSim]) -> list[dict[str, Any]]:
        return [kind.describe() for kind in dcsim.sim.fault_kinds]

    @post("/{kind:str}", status_code=HTTP_201_CREATED, summary="Inject a fault of a kind")
    async def inject(
        self, dcsim: NamedDependency[DcSim], kind: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        return to_json(await dcsim.sim.inject(kind, data))  # type: ignore[no-any-return]

    @delete("/{fault_id:str}", status_code=HTTP_200_OK, summary="Clear a fault", opt={"role": "operator"})
    async def clear(self, dcsim: NamedDependency[DcSim], fault_id: FromPath[str]) -> dict[str, Any]:
        return to_json(await dcsim.sim.clear_fault(fault_id))  # type: ignore[no-any-return]


HANDLERS = (VmController, InventoryController, FaultController)
