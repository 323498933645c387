"""Nova's other collections: flavors (core's ``Flavor``), key pairs (generated or
imported), hypervisors (the cloud site's compute hosts), availability zones (its
clusters) and limits."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from dcsim.model import new_id
from dcsim.sim.model import Cluster, Flavor, Host, PowerState, Vm, Volume
from dcsim_openstack.auth import Credentials, require_role
from dcsim_openstack.compute.microversions import answer
from dcsim_openstack.compute.render import flavor_view, hypervisor_view, keypair_view, links
from dcsim_openstack.compute.routes import Req, dcsim_of, version_of
from dcsim_openstack.compute.servers import find_keypair
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.model import PLATFORM, Keypair
from dcsim_openstack.service import base_url, read_json

#: Absolute limits a project has (Nova's defaults).
LIMITS = {"maxTotalInstances": 10, "maxTotalCores": 20, "maxTotalRAMSize": 51200, "maxTotalKeypairs": 100,
          "maxServerMeta": 128, "maxPersonality": 5, "maxPersonalitySize": 10240, "maxImageMeta": 128,
          "maxServerGroups": 10, "maxServerGroupMembers": 10, "maxSecurityGroups": 10,
          "maxSecurityGroupRules": 20, "maxTotalFloatingIps": 10}  # fmt: skip


# Flavors ------------------------------------------------------------------------------


def _flavors(request: Req) -> list[Flavor]:
    flavors = dcsim_of(request).sim.world.all(Flavor)
    query = request.query_params
    if query.get("minRam"):
        flavors = [f for f in flavors if f.ram_mb >= int(query["minRam"])]
    if query.get("minDisk"):
        flavors = [f for f in flavors if f.disk_gb >= int(query["minDisk"])]
    return sorted(flavors, key=lambda f: (f.ram_mb, f.name))


@get("/flavors", sync_to_thread=False)
def list_flavors(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /flavors``."""
    version, base = version_of(request), base_url(request)
    items: list[dict[str, Any]] = [
        {"id": f.id, "name": f.name, "links": links(base, "flavors", f.id)} for f in _flavors(request)
    ]
    if version.at_least("2.55"):
        for item in items:
            item["description"] = None
    return answer({"flavors": items}, version)


@get("/flavors/detail", sync_to_thread=False)
def list_flavors_detail(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /flavors/detail``."""
    version, base = version_of(request), base_url(request)
    return answer({"flavors": [flavor_view(f, base, version) for f in _flavors(request)]}, version)


@get("/flavors/{flavor_id:str}", sync_to_thread=False)
def show_flavor(request: Req, creds: NamedDependency[Credentials], flavor_id: FromPath[str]) -> Response[Any]:
    """``GET /flavors/{id}`` (by id, or by name as the CLI asks)."""
    version = version_of(request)
    flavor = dcsim_of(request).sim.world.find(Flavor, flavor_id)
    if flavor is None:
        raise OpenStackError(404, f"Flavor {flavor_id} could not be found.")
    return answer({"flavor": flavor_view(flavor, base_url(request), version)}, version)


@get("/flavors/{flavor_id:str}/os-extra_specs", sync_to_thread=False)
def flavor_extra_specs(request: Req, creds: NamedDependency[Credentials], flavor_id: FromPath[str]) -> Response[Any]:
    """``GET /flavors/{id}/os-extra_specs``: none."""
    version = version_of(request)
    if dcsim_of(request).sim.world.find(Flavor, flavor_id) is None:
        raise OpenStackError(404, f"Flavor {flavor_id} could not be found.")
    return answer({"extra_specs": {}}, version)


# Key pairs ----------------------------------------------------------------------------


def generate_key() -> tuple[str, str]:
    """A new RSA key pair: (OpenSSH public key, PEM private key), as Nova generates them."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return public.decode() + " Generated-by-Nova", private.decode()


def check_public_key(text: Any) -> str:
    """``text`` if it is an OpenSSH public key; Nova's 400 otherwise."""
    if not isinstance(text, str):
        raise OpenStackError(400, "Keypair data is invalid: public_key must be a string")
    try:
        serialization.load_ssh_public_key(" ".join(text.split()[:2]).encode())
    except (ValueError, IndexError, TypeError, UnsupportedAlgorithm):
        raise OpenStackError(400, "Keypair data is invalid: failed to generate fingerprint") from None
    return text.strip()


@get("/os-keypairs", sync_to_thread=False)
def list_keypairs(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /os-keypairs``: the project's key pairs."""
    version = version_of(request)
    world = dcsim_of(request).sim.world
    items = [{"keypair": keypair_view(k, creds.user_id, version, detail=False)}
             for k in world.all(Keypair) if k.project_id == creds.project_id]  # fmt: skip
    return answer({"keypairs": items}, version)


@get("/os-keypairs/{name:str}", sync_to_thread=False)
def show_keypair(request: Req, creds: NamedDependency[Credentials], name: FromPath[str]) -> Response[Any]:
    """``GET /os-keypairs/{name}``."""
    version = version_of(request)
    keypair = find_keypair(dcsim_of(request).sim.world, name, creds.project_id)
    if keypair is None:
        raise OpenStackError(404, f"Keypair {name} not found for user {creds.user_id}")
    return answer({"keypair": keypair_view(keypair, creds.user_id, version)}, version)


@post("/os-keypairs")
async def create_keypair(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``POST /os-keypairs``: import ``public_key``, or generate a pair and answer its private
    key once (200 before 2.2, 201 from 2.2)."""
    version = version_of(request)
    require_role(creds)
    body = await read_json(request)
    data = body.get("keypair") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"].strip():
        raise OpenStackError(400, "Invalid input for field/attribute keypair. Value: a name is required.")
    name = data["name"]
    private = None
    if data.get("public_key") is not None:
        public = check_public_key(data["public_key"])
    else:
        public, private = generate_key()
    sim = dcsim_of(request).sim
    async with sim.transaction() as change:
        if find_keypair(sim.world, name, creds.project_id) is not None:
            raise OpenStackError(409, f"Key pair '{name}' already exists.")
        keypair = Keypair(id=new_id(), name=name, project_id=creds.project_id or "", public_key=public)
        sim.world.add(keypair)
        change.save(keypair)
    view = keypair_view(keypair, creds.user_id, version)
    if private is not None:
        view["private_key"] = private
    return answer({"keypair": view}, version, 201 if version.at_least("2.2") else 200)


@delete("/os-keypairs/{name:str}", status_code=200)
async def delete_keypair(request: Req, creds: NamedDependency[Credentials], name: FromPath[str]) -> Response[Any]:
    """``DELETE /os-keypairs/{name}`` (202 before 2.2, 204 from 2.2)."""
    version = version_of(request)
    require_role(creds)
    sim = dcsim_of(request).sim
    async with sim.transaction() as change:
        keypair = find_keypair(sim.world, name, creds.project_id)
        if keypair is None:
            raise OpenStackError(404, f"Keypair {name} not found for user {creds.user_id}")
        sim.world.remove(keypair)
        change.remove(keypair)
    return answer(None, version, 204 if version.at_least("2.2") else 202)


# Hypervisors, zones, limits -----------------------------------------------------------


def _compute_hosts(request: Req) -> list[Host]:
    world = dcsim_of(request).sim.world
    return [h for c in world.all(Cluster) if c.platform == PLATFORM for h in world.hosts_in(c)]


@get("/os-hypervisors", sync_to_thread=False)
def list_hypervisors(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /os-hypervisors`` (admin)."""
    version = version_of(request)
    require_role(creds, write=False, admin=True)
    world = dcsim_of(request).sim.world
    return answer({"hypervisors": [hypervisor_view(world, h, detail=False) for h in _compute_hosts(request)]}, version)


@get("/os-hypervisors/detail", sync_to_thread=False)
def list_hypervisors_detail(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /os-hypervisors/detail`` (admin)."""
    version = version_of(request)
    require_role(creds, write=False, admin=True)
    world = dcsim_of(request).sim.world
    return answer({"hypervisors": [hypervisor_view(world, h, detail=True) for h in _compute_hosts(request)]}, version)


@get("/os-hypervisors/{hypervisor_id:str}", sync_to_thread=False)
def show_hypervisor(request: Req, creds: NamedDependency[Credentials], hypervisor_id: FromPath[str]) -> Response[Any]:
    """``GET /os-hypervisors/{id}`` (admin)."""
    version = version_of(request)
    require_role(creds, write=False, admin=True)
    host = next((h for h in _compute_hosts(request) if hypervisor_id in (h.id, h.name)), None)
    if host is None:
        raise OpenStackError(404, f"Hypervisor with ID {hypervisor_id} could not be found.")
    return answer({"hypervisor": hypervisor_view(dcsim_of(request).sim.world, host, detail=True)}, version)


def _zones(request: Req, detail: bool) -> list[dict[str, Any]]:
    world = dcsim_of(request).sim.world
    zones = []
    for cluster in world.all(Cluster):
        if cluster.platform != PLATFORM:
            continue
        hosts = world.hosts_in(cluster)
        up = [h for h in hosts if h.status.value != "failed" and h.power_state is PowerState.ON]
        zone: dict[str, Any] = {"zoneName": cluster.name, "zoneState": {"available": bool(up)}, "hosts": None}
        if detail:
            zone["hosts"] = {
                h.name: {"nova-compute": {"available": h in up, "active": True, "updated_at": None}} for h in hosts
            }
        zones.append(zone)
    return zones


@get("/os-availability-zone", sync_to_thread=False)
def list_zones(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /os-availability-zone``."""
    return answer({"availabilityZoneInfo": _zones(request, False)}, version_of(request))


@get("/os-availability-zone/detail", sync_to_thread=False)
def list_zones_detail(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /os-availability-zone/detail`` (admin): zones with their hosts."""
    version = version_of(request)
    require_role(creds, write=False, admin=True)
    return answer({"availabilityZoneInfo": _zones(request, True)}, version)


@get("/limits", sync_to_thread=False)
def show_limits(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /limits``: the project's absolute limits and what it uses."""
    version = version_of(request)
    world = dcsim_of(request).sim.world
    vms = [vm for vm in world.all(Vm) if vm.platform == PLATFORM and vm.project_id == creds.project_id]
    used = {
        "totalInstancesUsed": len(vms),
        "totalCoresUsed": sum(vm.cpu for vm in vms),
        "totalRAMUsed": sum(vm.memory_mb for vm in vms),
        "totalServerGroupsUsed": 0,
        "totalFloatingIpsUsed": 0,
        "totalSecurityGroupsUsed": 0,
    }
    absolute: dict[str, Any] = dict(LIMITS) | used
    absolute["totalVolumesUsed"] = len([v for v in world.all(Volume) if v.project_id == creds.project_id])
    return answer({"limits": {"absolute": absolute, "rate": []}}, version)


HANDLERS: list[Any] = [
    list_flavors,
    list_flavors_detail,
    show_flavor,
    flavor_extra_specs,
    list_keypairs,
    show_keypair,
    create_keypair,
    delete_keypair,
    list_hypervisors,
    list_hypervisors_detail,
    show_hypervisor,
    list_zones,
    list_zones_detail,
    show_limits,
]

__all__ = ["HANDLERS", "check_public_key", "generate_key"]
