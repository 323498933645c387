"""Servers on the simulation engine: create (BUILD, then ACTIVE), update, delete.

A server is a core ``Vm`` on a compute host of the cloud site, with a node (virtual or
docker) whose ``authorized_keys`` holds its key pair's public key, and a
:class:`~dcsim_openstack.compute.model.ServerRecord` of the same id. Its NICs are ports of
the network package (:mod:`dcsim_openstack.network.ports`). Every change is one engine
transaction; the boot finishes in a task of its own, so the create answers 202 at once
and the server shows BUILD until its node is up, as Nova's does.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import socket
from typing import TYPE_CHECKING, Any

import structlog

from dcsim.model import new_id, utcnow
from dcsim.sim.model import (
    Cluster,
    Datastore,
    Disk,
    Flavor,
    HealthStatus,
    Host,
    Image,
    Nic,
    Node,
    PowerState,
    Vm,
    Volume,
)
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials
from dcsim_openstack.compute.model import ServerRecord
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.model import PLATFORM, Keypair
from dcsim_openstack.network.ports import allocate_port, auto_network, claim_port, release_ports

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.model import Event
    from dcsim.sim.events import Change

log = structlog.get_logger(__name__)

#: Boots in flight (a reference keeps each task alive until it ends).
_BOOTS: set[asyncio.Task[None]] = set()
_NODE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def not_found(server_id: str) -> OpenStackError:
    """Nova's 404 for a server."""
    return OpenStackError(404, f"Instance {server_id} could not be found.")


def find_server(world: World, creds: Credentials, server_id: str) -> Vm:
    """A cloud server the caller may see, by id (or unique name); Nova's 404 otherwise."""
    vm = world.find(Vm, server_id)
    if vm is None or vm.platform != PLATFORM or not visible(creds, vm):
        raise not_found(server_id)
    return vm


def visible(creds: Credentials, vm: Vm) -> bool:
    """Whether the caller sees ``vm``: an admin sees every server, others their project's."""
    return creds.is_admin or vm.project_id == creds.project_id


def ref_id(ref: Any) -> str:
    """The id at the end of a reference that may be a URL (``imageRef``, ``flavorRef``)."""
    if not isinstance(ref, str | int) or isinstance(ref, bool) or str(ref) == "":
        raise OpenStackError(400, f"Invalid reference {ref!r}.")
    return str(ref).rstrip("/").rsplit("/", 1)[-1]


def compute_hosts(world: World, zone: str | None) -> list[Host]:
    """Healthy, powered-on compute hosts of the cloud site (of availability zone ``zone``)."""
    clusters = [c for c in world.all(Cluster) if c.platform == PLATFORM and zone in (None, c.name)]
    if zone is not None and not clusters:
        raise OpenStackError(400, f"The requested availability zone is not available: {zone}")
    return [
        h
        for c in clusters
        for h in world.hosts_in(c)
        if h.status is not HealthStatus.FAILED and h.power_state is PowerState.ON
    ]


def free_ssh_port(world: World) -> int:
    """A loopback port no node of the world has and nothing listens on now."""
    taken = {obj.node.ssh_port for _, objects in world.kinds() for obj in objects if getattr(obj, "node", None)}
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            return port


def find_keypair(world: World, name: str, project_id: str | None) -> Keypair | None:
    """The key pair ``name`` of a project."""
    return next((k for k in world.all(Keypair) if k.name == name and k.project_id == project_id), None)


def _text(body: dict[str, Any], field: str, *, required: bool = False, limit: int = 255) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise OpenStackError(
                400, f"Invalid input for field/attribute server. Value: '{field}' is a required property"
            )
        return None
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise OpenStackError(400, f"Invalid input for field/attribute {field}. Value: {value!r}.")
    return value


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise OpenStackError(400, "Invalid input for field/attribute metadata. Value: must be an object of strings.")
    return dict(value)


def _user_data(value: Any) -> str | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise OpenStackError(400, "Invalid input for field/attribute user_data. Value: not base64.") from None
    return value


def _networks(value: Any) -> list[dict[str, Any]] | str:
    if value is None or value in ("auto", "none"):
        return str(value or "auto")
    if not isinstance(value, list) or not all(isinstance(n, dict) for n in value):
        raise OpenStackError(400, "Invalid input for field/attribute networks.")
    for entry in value:
        if not ({"uuid", "port"} & set(entry)):
            raise OpenStackError(400, "Bad networks format: each network needs a uuid or a port.")
    return list(value)


async def create_server(dcsim: DcSim, creds: Credentials, body: Any) -> tuple[Vm, ServerRecord]:
    """Create a server from Nova's create body (``{"server": {...}}``) and start its boot."""
    if not isinstance(body, dict) or not isinstance(body.get("server"), dict):
        raise OpenStackError(400, "Invalid input: the body needs a 'server' object.")
    server: dict[str, Any] = body["server"]
    name = _text(server, "name", required=True)
    assert name is not None
    flavor_ref = ref_id(server.get("flavorRef"))
    image_ref = server.get("imageRef")
    key_name = _text(server, "key_name")
    metadata = _metadata(server.get("metadata"))
    user_data = _user_data(server.get("user_data"))
    description = _text(server, "description")
    zone = _text(server, "availability_zone")
    networks = _networks(server.get("networks"))
    groups = server.get("security_groups") or [{"name": "default"}]
    group_names = [str(g.get("name")) for g in groups if isinstance(g, dict)]
    project_id = creds.project_id
    if project_id is None:
        raise OpenStackError(403, "A project-scoped token is needed to create a server.")
    sim = dcsim.sim
    async with sim.transaction() as change:
        world = sim.world
        flavor = world.find(Flavor, flavor_ref)
        if flavor is None:
            raise OpenStackError(400, f"Flavor {flavor_ref} could not be found.")
        image = world.find(Image, ref_id(image_ref)) if image_ref else None
        if image is None:
            raise OpenStackError(400, f"Image {image_ref} could not be found.")
        keypair = find_keypair(world, key_name, project_id) if key_name else None
        if key_name and keypair is None:
            raise OpenStackError(400, f"Invalid key_name provided: {key_name}.")
        if world.find(Vm, name) is not None:
            # Core's VMs have unique names; Nova's servers need not, but here they do.
            raise OpenStackError(409, f"A server named {name} already exists.")
        hosts = compute_hosts(world, zone)
        if not hosts:
            raise OpenStackError(409, "No valid host was found. There are not enough hosts available.")
        host = min(hosts, key=lambda h: (len(world.vms_on(h)), h.name))
        cluster = world.get(Cluster, host.cluster_id)
        vm_id = new_id()
        nics = _nics(world, change, networks, project_id, vm_id, cluster.name)
        datastore = next((d for d in world.all(Datastore) if d.datacenter_id == cluster.datacenter_id), None)
        node_name = "sim-os-" + _NODE_NAME.sub("-", name)[:50]
        if sim.owner_of(node_name) is not None:
            node_name = f"{node_name}-{vm_id[:8]}"
        node = Node(name=node_name, guest_os=image.guest_os, ssh_port=free_ssh_port(world), env="dev",
                    authorized_keys=[keypair.public_key] if keypair else [])  # fmt: skip
        vm = Vm(
            id=vm_id, name=name, platform=PLATFORM, host_id=host.id, cpu=flavor.vcpus, memory_mb=flavor.ram_mb,
            node=node, power_state=PowerState.OFF, nics=nics,
            disks=[Disk(label="disk", size_gb=flavor.disk_gb, datastore_id=datastore.id if datastore else None)],
            tags={"os": image.guest_os.value, "platform": PLATFORM, "env": "dev"},
            project_id=project_id, flavor=flavor.name, image=image.name,
        )  # fmt: skip
        record = ServerRecord(
            id=vm_id, name=name, project_id=project_id, user_id=creds.user_id, key_name=key_name,
            metadata=metadata, user_data=user_data, description=description, security_groups=group_names,
        )  # fmt: skip
        world.add(vm)
        world.add(record)
        change.save(vm, record)
        change.event("vm.created", {"vm": _vm_json(vm)}, vm)
    start_boot(dcsim, vm_id)
    return vm, record


def start_boot(dcsim: DcSim, vm_id: str) -> None:
    """Finish the boot of server ``vm_id`` in a task of its own."""
    task = asyncio.get_running_loop().create_task(_boot(dcsim, vm_id))
    _BOOTS.add(task)
    task.add_done_callback(_BOOTS.discard)


def resume_boots(dcsim: DcSim) -> None:
    """At start-up: finish the boots a stop of dc-sim interrupted (servers still BUILD)."""
    for record in dcsim.sim.world.all(ServerRecord):
        if record.vm_state == "building" and dcsim.sim.world.find(Vm, record.id) is not None:
            start_boot(dcsim, record.id)


def _vm_json(vm: Vm) -> Any:
    from dcsim.convert import to_json

    return to_json(vm)


def _nics(
    world: World, change: Change, networks: list[dict[str, Any]] | str, project_id: str, vm_id: str, zone: str
) -> list[Nic]:
    if networks == "none":
        return []
    if networks == "auto":
        network = auto_network(world, project_id)
        return [allocate_port(world, change, network=network.id, project_id=project_id, server_id=vm_id, zone=zone)]
    nics = []
    assert isinstance(networks, list)
    for entry in networks:
        if entry.get("port"):
            nics.append(claim_port(world, change, port=str(entry["port"]), project_id=project_id, server_id=vm_id,
                                   zone=zone))  # fmt: skip
        else:
            nics.append(allocate_port(world, change, network=str(entry["uuid"]), project_id=project_id,
                                      server_id=vm_id, zone=zone, fixed_ip=entry.get("fixed_ip")))  # fmt: skip
    return nics


async def _boot(dcsim: DcSim, vm_id: str) -> None:
    """Finish a boot: the node is made and powered on, the server becomes ACTIVE (ERROR if
    its host went down meanwhile)."""
    sim = dcsim.sim
    try:
        # The node is made first, powered off: if that fails the server is still BUILD
        # until the handler below marks it ERROR (it never shows ACTIVE without a node).
        async with sim.transaction() as change:
            vm, record = sim.world.find(Vm, vm_id), sim.world.find(ServerRecord, vm_id)
            if vm is None or record is None or record.vm_state != "building":
                return
            change.drive(vm)
        async with sim.transaction() as change:
            vm, record = sim.world.find(Vm, vm_id), sim.world.find(ServerRecord, vm_id)
            if vm is None or record is None or record.vm_state != "building":
                return
            host = sim.world.get(Host, vm.host_id)
            record.task_state, record.updated_at = None, utcnow()
            change.save(record)
            if host.status is HealthStatus.FAILED or host.power_state is not PowerState.ON:
                record.vm_state = "error"
                return
            record.vm_state, record.launched_at = "active", utcnow()
            sim.set_vm_power(vm, PowerState.ON, "boot", change)
    except Exception:
        # The node could not be made or started (no node image, a port taken): the
        # server is ERROR, as a failed spawn is in Nova.
        log.exception("openstack.boot_failed", server=vm_id)
        async with sim.transaction() as change:
            record = sim.world.find(ServerRecord, vm_id)
            if record is not None:
                record.vm_state, record.task_state = "error", None
                change.save(record)


async def delete_server(dcsim: DcSim, creds: Credentials, server_id: str) -> None:
    """Delete a server: its VM and ports go, its volumes are detached, its node removed;
    its record stays, marked deleted."""
    sim = dcsim.sim
    async with sim.transaction() as change:
        vm = find_server(sim.world, creds, server_id)
        release_ports(sim.world, change, vm.id)
        for volume in sim.world.all(Volume):
            if volume.attached_to == vm.id:
                volume.attached_to = None
                change.save(volume)
        record = ensure_record(sim.world, change, vm)
        record.vm_state, record.task_state = "deleted", None
        record.deleted_at = record.updated_at = utcnow()
        sim.world.remove(vm)
        change.remove(vm)
        change.event("vm.destroyed", {"vm": _vm_json(vm)}, vm)
    if vm.node is not None:
        await sim.nodes.remove(vm.node.name)


async def on_vm_destroyed(dcsim: DcSim, event: Event) -> None:
    """``vm.destroyed`` subscriber: a server destroyed outside Nova (through ``/sim``) is
    marked deleted and its volumes detached, as Nova's own delete does."""
    vm_id = str(event.data["vm"]["id"])
    sim = dcsim.sim
    record = sim.world.find(ServerRecord, vm_id)
    attached = [v for v in sim.world.all(Volume) if v.attached_to == vm_id]
    if (record is None or record.deleted_at is not None) and not attached:
        return
    async with sim.transaction() as change:
        if sim.world.find(Vm, vm_id) is not None:
            return  # back meanwhile (a restore): nothing went
        for volume in attached:
            volume.attached_to = None
            change.save(volume)
        if record is not None and record.deleted_at is None:
            record.vm_state, record.task_state = "deleted", None
            record.deleted_at = record.updated_at = utcnow()
            change.save(record)


async def update_server(dcsim: DcSim, creds: Credentials, server_id: str, body: Any) -> Vm:
    """``PUT /servers/{id}``: a new name or description."""
    if not isinstance(body, dict) or not isinstance(body.get("server"), dict):
        raise OpenStackError(400, "Invalid input: the body needs a 'server' object.")
    fields: dict[str, Any] = body["server"]
    unknown = set(fields) - {"name", "description", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig", "hostname"}
    if unknown:
        raise OpenStackError(400, f"Additional properties are not allowed ({', '.join(sorted(unknown))} unexpected)")
    name = _text(fields, "name")
    sim = dcsim.sim
    async with sim.transaction() as change:
        vm = find_server(sim.world, creds, server_id)
        record = ensure_record(sim.world, change, vm)
        if name is not None and name != vm.name:
            if not name.strip():
                raise OpenStackError(400, "Invalid input for field/attribute name.")
            if sim.world.find(Vm, name) is not None:
                raise OpenStackError(409, f"A server named {name} already exists.")
            for obj in (vm, record):
                sim.world.remove(obj)
                obj.name = name
                sim.world.add(obj)
            change.drive(vm)
        if "description" in fields:
            record.description = _text(fields, "description")
        record.updated_at = utcnow()
        change.save(vm, record)
    return vm


def ensure_record(world: World, change: Change, vm: Vm) -> ServerRecord:
    """The server's record, made for a server Nova did not create (the seed's)."""
    record = world.find(ServerRecord, vm.id)
    if record is None:
        record = ServerRecord(id=vm.id, name=vm.name, project_id=vm.project_id or "", user_id="",
                              vm_state="active", task_state=None, created_at=vm.created_at,
                              launched_at=vm.created_at)  # fmt: skip
        world.add(record)
    change.save(record)
    return record


__all__ = [
    "compute_hosts",
    "create_server",
    "delete_server",
    "ensure_record",
    "find_keypair",
    "find_server",
    "free_ssh_port",
    "not_found",
    "on_vm_destroyed",
    "ref_id",
    "resume_boots",
    "start_boot",
    "update_server",
    "visible",
]
