"""Nova's JSON for servers, flavors, key pairs and hypervisors, at a microversion.

Everything is rendered from the world at request time: core's ``Vm``, ``Flavor``,
``Host`` and ``Volume``, and this package's records. Fields follow Nova's API reference
for the microversion the request negotiated (``flavor`` embedded from 2.47, ``locked``
from 2.9, ``description`` from 2.19, ``tags`` from 2.26, ``host_status`` from 2.16).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from dcsim.sim.model import Cluster, Flavor, Host, Image, PowerState, Vm, Volume
from dcsim.sim.world import World
from dcsim_openstack.compute.microversions import Microversion
from dcsim_openstack.compute.model import ServerRecord
from dcsim_openstack.compute.states import server_state
from dcsim_openstack.model import Keypair
from dcsim_openstack.network.ports import server_addresses


def iso(moment: datetime | None) -> str | None:
    """Nova's timestamp form (``2024-01-02T03:04:05Z``)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def links(base: str, collection: str, object_id: str) -> list[dict[str, str]]:
    """``self`` and ``bookmark`` links of an object of ``collection``."""
    return [
        {"rel": "self", "href": f"{base}/compute/v2.1/{collection}/{object_id}"},
        {"rel": "bookmark", "href": f"{base}/compute/{collection}/{object_id}"},
    ]


def flavor_view(flavor: Flavor, base: str, version: Microversion) -> dict[str, Any]:
    """A flavor as ``GET /flavors/{id}`` shows it."""
    view: dict[str, Any] = {
        "id": flavor.id,
        "name": flavor.name,
        "ram": flavor.ram_mb,
        "disk": flavor.disk_gb,
        "vcpus": flavor.vcpus,
        "OS-FLV-EXT-DATA:ephemeral": 0,
        "OS-FLV-DISABLED:disabled": False,
        "swap": 0 if version.at_least("2.75") else "",
        "rxtx_factor": 1.0,
        "os-flavor-access:is_public": True,
        "links": links(base, "flavors", flavor.id),
    }
    if version.at_least("2.55"):
        view["description"] = None
    if version.at_least("2.61"):
        view["extra_specs"] = {}
    return view


def _server_flavor(world: World, vm: Vm, base: str, version: Microversion) -> dict[str, Any]:
    flavor = world.find(Flavor, vm.flavor or "")
    if version.at_least("2.47"):
        return {
            "vcpus": vm.cpu,
            "ram": vm.memory_mb,
            "disk": flavor.disk_gb if flavor else sum(d.size_gb for d in vm.disks),
            "ephemeral": 0,
            "swap": 0,
            "original_name": vm.flavor or "",
            "extra_specs": {},
        }
    flavor_id = flavor.id if flavor else ""
    return {"id": flavor_id, "links": [{"rel": "bookmark", "href": f"{base}/compute/flavors/{flavor_id}"}]}


def addresses(world: World, vm: Vm) -> dict[str, list[dict[str, Any]]]:
    """The server's addresses by network name (``GET /servers/{id}/ips``): Neutron's view,
    fixed addresses then the floating IPs associated with their ports."""
    return server_addresses(world, vm)


def host_id(project_id: str, host: str) -> str:
    """Nova's ``hostId``: a per-project hash of the compute host's name."""
    return hashlib.sha224(f"{project_id}{host}".encode()).hexdigest()


def server_view(
    world: World, vm: Vm, record: ServerRecord | None, base: str, version: Microversion, *, admin: bool
) -> dict[str, Any]:
    """A server as ``GET /servers/{id}`` shows it."""
    state = server_state(world, vm, record)
    host = world.find(Host, vm.host_id)
    cluster = world.find(Cluster, host.cluster_id) if host else None
    image = world.find(Image, vm.image or "")
    project = vm.project_id or (record.project_id if record else "")
    volumes = [v for v in world.all(Volume) if v.attached_to == vm.id]
    created = record.created_at if record else vm.created_at
    view: dict[str, Any] = {
        "id": vm.id,
        "name": vm.name,
        "status": state.status,
        "tenant_id": project,
        "user_id": record.user_id if record else "",
        "metadata": dict(record.metadata) if record else {},
        "hostId": host_id(project, host.name) if host else "",
        "image": {"id": image.id, "links": [{"rel": "bookmark", "href": f"{base}/compute/images/{image.id}"}]}
        if image
        else "",
        "flavor": _server_flavor(world, vm, base, version),
        "created": iso(created),
        "updated": iso(record.updated_at if record else created),
        "addresses": addresses(world, vm),
        "accessIPv4": "",
        "accessIPv6": "",
        "links": links(base, "servers", vm.id),
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": cluster.name if cluster else "",
        "config_drive": "",
        "key_name": record.key_name if record else None,
        "OS-SRV-USG:launched_at": iso(record.launched_at if record else created),
        "OS-SRV-USG:terminated_at": None,
        "OS-EXT-STS:task_state": state.task_state,
        "OS-EXT-STS:vm_state": state.vm_state,
        "OS-EXT-STS:power_state": state.power_state,
        "os-extended-volumes:volumes_attached": [{"id": v.id, "delete_on_termination": False} for v in volumes],
        "security_groups": [{"name": name} for name in (record.security_groups if record else ["default"])],
    }
    if state.status in ("ACTIVE", "BUILD"):
        view["progress"] = 100 if state.status == "ACTIVE" else 0
    if state.status == "ERROR":
        down = state.host_status != "UP"
        message = f"Compute host {host.name if host else vm.host_id} is down." if down else "Build of instance failed."
        view["fault"] = {"code": 500, "message": message, "created": iso(created)}
    if admin:
        view["OS-EXT-SRV-ATTR:host"] = host.name if host else None
        view["OS-EXT-SRV-ATTR:hypervisor_hostname"] = host.name if host else None
        view["OS-EXT-SRV-ATTR:instance_name"] = vm.node.name if vm.node else f"instance-{vm.id[:8]}"
        if version.at_least("2.3"):
            view["OS-EXT-SRV-ATTR:hostname"] = vm.name
            view["OS-EXT-SRV-ATTR:user_data"] = record.user_data if record else None
            view["OS-EXT-SRV-ATTR:reservation_id"] = f"r-{vm.id[:8]}"
            view["OS-EXT-SRV-ATTR:launch_index"] = 0
            view["OS-EXT-SRV-ATTR:kernel_id"] = ""
            view["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
            view["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
    if version.at_least("2.9"):
        view["locked"] = False
    if version.at_least("2.16"):
        view["host_status"] = state.host_status
    if version.at_least("2.19"):
        view["description"] = record.description if record else None
    if version.at_least("2.26"):
        view["tags"] = list(record.tags) if record else []
    if version.at_least("2.63"):
        view["trusted_image_certificates"] = None
    if version.at_least("2.73"):
        view["locked_reason"] = None
    return view


def deleted_view(record: ServerRecord, base: str, version: Microversion) -> dict[str, Any]:
    """A deleted server as an admin's ``GET /servers/detail?deleted=true`` shows it."""
    view: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "status": "DELETED",
        "tenant_id": record.project_id,
        "user_id": record.user_id,
        "metadata": dict(record.metadata),
        "created": iso(record.created_at),
        "updated": iso(record.updated_at),
        "addresses": {},
        "links": links(base, "servers", record.id),
        "key_name": record.key_name,
        "OS-SRV-USG:launched_at": iso(record.launched_at),
        "OS-SRV-USG:terminated_at": iso(record.deleted_at),
        "OS-EXT-STS:task_state": None,
        "OS-EXT-STS:vm_state": "deleted",
        "OS-EXT-STS:power_state": 0,
    }
    if version.at_least("2.19"):
        view["description"] = record.description
    return view


def fingerprint(public_key: str) -> str:
    """The MD5 fingerprint of an OpenSSH public key, as Nova shows it (``aa:bb:...``)."""
    import base64

    parts = public_key.split()
    try:
        blob = base64.b64decode(parts[1]) if len(parts) > 1 else b""
    except ValueError:
        blob = public_key.encode()
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def keypair_view(keypair: Keypair, user_id: str, version: Microversion, *, detail: bool = True) -> dict[str, Any]:
    """A key pair as ``GET /os-keypairs/{name}`` shows it (``detail=False``: as the list does)."""
    view: dict[str, Any] = {
        "name": keypair.name,
        "public_key": keypair.public_key,
        "fingerprint": fingerprint(keypair.public_key),
    }
    if version.at_least("2.2"):
        view["type"] = "ssh"
    if detail:
        view |= {"user_id": user_id, "id": keypair.id, "created_at": None, "deleted": False, "deleted_at": None,
                 "updated_at": None}  # fmt: skip
    return view


def hypervisor_view(world: World, host: Host, *, detail: bool) -> dict[str, Any]:
    """A compute host as ``GET /os-hypervisors[/detail]`` shows it."""
    up = host.status.value != "failed" and host.power_state is PowerState.ON
    view: dict[str, Any] = {
        "id": host.id,
        "hypervisor_hostname": host.name,
        "state": "up" if up else "down",
        "status": "enabled",
    }
    if detail:
        vms = world.vms_on(host)
        running = [vm for vm in vms if vm.power_state is not PowerState.OFF]
        used_cpu, used_mb = sum(vm.cpu for vm in vms), sum(vm.memory_mb for vm in vms)
        used_gb = sum(d.size_gb for vm in vms for d in vm.disks)
        view |= {
            "hypervisor_type": "QEMU",
            "hypervisor_version": 8002000,
            "host_ip": "",
            "vcpus": host.cpu_cores,
            "vcpus_used": used_cpu,
            "memory_mb": host.memory_mb,
            "memory_mb_used": used_mb,
            "free_ram_mb": host.memory_mb - used_mb,
            "local_gb": 2048,
            "local_gb_used": used_gb,
            "free_disk_gb": 2048 - used_gb,
            "disk_available_least": 2048 - used_gb,
            "current_workload": 0,
            "running_vms": len(running),
            "cpu_info": "{}",
            "service": {"host": host.name, "id": host.id, "disabled_reason": None},
        }
    return view


__all__ = [
    "addresses",
    "deleted_view",
    "fingerprint",
    "flavor_view",
    "host_id",
    "hypervisor_view",
    "iso",
    "keypair_view",
    "links",
    "server_view",
]
