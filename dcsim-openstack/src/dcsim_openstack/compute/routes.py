"""Nova's server routes under ``/compute/v2.1``: list, detail, create, show, update,
delete, actions, addresses, metadata and security groups.

Handlers negotiate the microversion first (:mod:`.microversions`), check the token
(``creds``), read the world, and answer Nova's JSON with the microversion headers.
``HANDLERS`` (with the flavor, key pair, hypervisor and attachment routes) is what the
plugin mounts.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath

from dcsim.app import DcSim
from dcsim.sim.model import Flavor, Image, Vm
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials, require_role
from dcsim_openstack.compute import actions, servers
from dcsim_openstack.compute.microversions import Microversion, answer, negotiate
from dcsim_openstack.compute.model import ServerRecord
from dcsim_openstack.compute.render import addresses, deleted_view, links, server_view
from dcsim_openstack.compute.states import server_state
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.model import PLATFORM, SecurityGroup
from dcsim_openstack.service import SERVICES, base_url, read_json

Req = Request[Any, Any, Any]


def version_of(request: Req) -> Microversion:
    """The request's compute microversion."""
    return negotiate(request, SERVICES["compute"], "compute")


def dcsim_of(request: Req) -> DcSim:
    """The instance serving ``request``."""
    dcsim: DcSim = request.app.state.dcsim
    return dcsim


def _matches(world: World, vm: Vm, record: ServerRecord | None, query: dict[str, str]) -> bool:
    """Whether ``vm`` passes Nova's list filters in ``query``."""
    if "name" in query:
        try:
            if not re.search(query["name"], vm.name):
                return False
        except re.error:
            raise OpenStackError(400, f"Invalid regular expression for name: {query['name']}") from None
    if "status" in query and server_state(world, vm, record).status != query["status"].upper():
        return False
    if "flavor" in query:
        flavor = world.find(Flavor, query["flavor"])
        if flavor is None or flavor.name != vm.flavor:
            return False
    if "image" in query:
        image = world.find(Image, servers.ref_id(query["image"]))
        if image is None or image.name != vm.image:
            return False
    if "ip" in query and not any(nic.ip and re.match(query["ip"], nic.ip) for nic in vm.nics):
        return False
    if "availability_zone" in query:
        view_zone = server_view(world, vm, record, "", Microversion(2, 1), admin=False)["OS-EXT-AZ:availability_zone"]
        if view_zone != query["availability_zone"]:
            return False
    return True


def _deleted(request: Req, creds: Credentials, query: dict[str, str]) -> list[tuple[Vm | None, ServerRecord | None]]:
    """Deleted servers (``deleted=true``, admin only, as Nova lists soft-deleted rows)."""
    all_projects = query.get("all_tenants", "").lower() not in ("", "0", "false")
    result: list[tuple[Vm | None, ServerRecord | None]] = []
    for record in dcsim_of(request).sim.world.all(ServerRecord):
        if record.deleted_at is None or (not all_projects and record.project_id != creds.project_id):
            continue
        if "name" in query and not re.search(query["name"], record.name):
            continue
        result.append((None, record))
    return result


def _listed(request: Req, creds: Credentials) -> list[tuple[Vm | None, ServerRecord | None]]:
    world = dcsim_of(request).sim.world
    query = {k: v for k, v in request.query_params.items() if v is not None}
    all_projects = creds.is_admin and query.get("all_tenants", "").lower() not in ("", "0", "false")
    project = query.get("project_id") or query.get("tenant_id")
    # Only an admin's ``deleted`` filter counts (Nova drops it for others).
    deleted = creds.is_admin and query.get("deleted", "").lower() in ("true", "1", "yes")
    result: list[tuple[Vm | None, ServerRecord | None]] = _deleted(request, creds, query) if deleted else []
    for vm in [] if deleted else world.all(Vm):
        if vm.platform != PLATFORM:
            continue
        if all_projects:
            if project and vm.project_id != project:
                continue
        elif vm.project_id != creds.project_id:
            continue
        record = world.find(ServerRecord, vm.id)
        if _matches(world, vm, record, query):
            result.append((vm, record))
    result.sort(key=lambda pair: (_created(*pair), _ident(*pair)[0]), reverse=True)
    marker = query.get("marker")
    if marker:
        ids = [_ident(*pair)[0] for pair in result]
        if marker not in ids:
            raise OpenStackError(400, f"marker [{marker}] not found")
        result = result[ids.index(marker) + 1 :]
    if "limit" in query:
        try:
            limit = int(query["limit"])
        except ValueError:
            raise OpenStackError(400, "Invalid input for query parameters limit.") from None
        if limit < 0:
            raise OpenStackError(400, "Invalid input for query parameters limit.")
        result = result[:limit]
    return result


def _ident(vm: Vm | None, record: ServerRecord | None) -> tuple[str, str]:
    """(id, name) of a listed server, live or deleted."""
    found = vm or record
    assert found is not None
    return found.id, found.name


def _created(vm: Vm | None, record: ServerRecord | None) -> datetime:
    if record is not None:
        return record.created_at
    assert vm is not None
    return vm.created_at


@get("/servers", sync_to_thread=False)
def list_servers(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /servers``: id, name and links of each server."""
    version, base = version_of(request), base_url(request)
    items = []
    for pair in _listed(request, creds):
        server_id, name = _ident(*pair)
        items.append({"id": server_id, "name": name, "links": links(base, "servers", server_id)})
    return answer({"servers": items}, version)


@get("/servers/detail", sync_to_thread=False)
def list_servers_detail(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /servers/detail``: every server as ``GET /servers/{id}`` shows it."""
    version, base = version_of(request), base_url(request)
    world = dcsim_of(request).sim.world
    items = []
    for vm, rec in _listed(request, creds):
        if vm is not None:
            items.append(server_view(world, vm, rec, base, version, admin=creds.is_admin))
        elif rec is not None:
            items.append(deleted_view(rec, base, version))
    return answer({"servers": items}, version)


@post("/servers", status_code=202)
async def create_server(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``POST /servers``: 202 with the new server's id, links and admin password."""
    version = version_of(request)
    require_role(creds)
    vm, record = await servers.create_server(dcsim_of(request), creds, await read_json(request))
    server_links = links(base_url(request), "servers", vm.id)
    body = {
        "server": {
            "id": vm.id,
            "links": server_links,
            "OS-DCF:diskConfig": "MANUAL",
            "security_groups": [{"name": name} for name in record.security_groups],
            "adminPass": "dcsim-" + vm.id[:8],
        }
    }
    return answer(body, version, 202, {"Location": server_links[0]["href"]})


@get("/servers/{server_id:str}", sync_to_thread=False)
def show_server(request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str]) -> Response[Any]:
    """``GET /servers/{id}``."""
    version = version_of(request)
    world = dcsim_of(request).sim.world
    vm = servers.find_server(world, creds, server_id)
    view = server_view(world, vm, world.find(ServerRecord, vm.id), base_url(request), version, admin=creds.is_admin)
    return answer({"server": view}, version)


@put("/servers/{server_id:str}")
async def update_server(request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str]) -> Response[Any]:
    """``PUT /servers/{id}``: rename, or change the description."""
    version = version_of(request)
    require_role(creds)
    dcsim = dcsim_of(request)
    vm = await servers.update_server(dcsim, creds, server_id, await read_json(request))
    world = dcsim.sim.world
    view = server_view(world, vm, world.find(ServerRecord, vm.id), base_url(request), version, admin=creds.is_admin)
    return answer({"server": view}, version)


@delete("/servers/{server_id:str}", status_code=200)
async def delete_server(request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str]) -> Response[Any]:
    """``DELETE /servers/{id}``: 204."""
    version = version_of(request)
    require_role(creds)
    await servers.delete_server(dcsim_of(request), creds, server_id)
    return answer(None, version, 204)


@post("/servers/{server_id:str}/action", status_code=202)
async def server_action(request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str]) -> Response[Any]:
    """``POST /servers/{id}/action``: ``{"<action>": {...}}``, 202."""
    version = version_of(request)
    body = await read_json(request)
    if not isinstance(body, dict) or len(body) != 1:
        raise OpenStackError(400, "The action body must be an object with one action.")
    [(action, args)] = body.items()
    dcsim = dcsim_of(request)
    if action not in actions.ACTIONS:
        servers.find_server(dcsim.sim.world, creds, server_id)
        raise OpenStackError(400, f"There is no such action: {action}")
    require_role(creds)
    if action == "createImage":
        image_id = await actions.create_image(dcsim, creds, server_id, args)
        location = f"{base_url(request)}/image/v2/images/{image_id}"
        if version.at_least("2.45"):
            return answer({"image_id": image_id}, version, 202)
        return answer(None, version, 202, {"Location": location})
    await actions.power_action(dcsim, creds, server_id, action, args)
    return answer(None, version, 202)


@get("/servers/{server_id:str}/ips", sync_to_thread=False)
def server_ips(request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str]) -> Response[Any]:
    """``GET /servers/{id}/ips``: the server's addresses by network name."""
    version = version_of(request)
    world = dcsim_of(request).sim.world
    vm = servers.find_server(world, creds, server_id)
    plain = {net: [{"version": a["version"], "addr": a["addr"]} for a in found]
             for net, found in addresses(world, vm).items()}  # fmt: skip
    return answer({"addresses": plain}, version)


@get("/servers/{server_id:str}/ips/{network:str}", sync_to_thread=False)
def server_ips_on(
    request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str], network: FromPath[str]
) -> Response[Any]:
    """``GET /servers/{id}/ips/{network}``: the addresses on one network (404 if none)."""
    version = version_of(request)
    world = dcsim_of(request).sim.world
    vm = servers.find_server(world, creds, server_id)
    found = addresses(world, vm).get(network)
    if found is None:
        raise OpenStackError(404, "There are no instance addresses on that network.")
    return answer({network: [{"version": a["version"], "addr": a["addr"]} for a in found]}, version)


@get("/servers/{server_id:str}/metadata", sync_to_thread=False)
def show_metadata(request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str]) -> Response[Any]:
    """``GET /servers/{id}/metadata``."""
    version = version_of(request)
    world = dcsim_of(request).sim.world
    vm = servers.find_server(world, creds, server_id)
    record = world.find(ServerRecord, vm.id)
    return answer({"metadata": dict(record.metadata) if record else {}}, version)


async def _set_metadata(request: Req, creds: Credentials, server_id: str, *, replace: bool) -> Response[Any]:
    version = version_of(request)
    require_role(creds)
    body = await read_json(request)
    metadata = body.get("metadata") if isinstance(body, dict) else None
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise OpenStackError(400, "Invalid input for field/attribute metadata.")
    sim = dcsim_of(request).sim
    async with sim.transaction() as change:
        vm = servers.find_server(sim.world, creds, server_id)
        record = servers.ensure_record(sim.world, change, vm)
        record.metadata = dict(metadata) if replace else record.metadata | metadata
    return answer({"metadata": dict(record.metadata)}, version)


@post("/servers/{server_id:str}/metadata", status_code=200)
async def update_metadata(request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str]) -> Response[Any]:
    """``POST /servers/{id}/metadata``: merge items into the metadata."""
    return await _set_metadata(request, creds, server_id, replace=False)


@put("/servers/{server_id:str}/metadata")
async def replace_metadata(
    request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str]
) -> Response[Any]:
    """``PUT /servers/{id}/metadata``: replace the metadata."""
    return await _set_metadata(request, creds, server_id, replace=True)


@delete("/servers/{server_id:str}/metadata/{key:str}", status_code=200)
async def delete_metadata_item(
    request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str], key: FromPath[str]
) -> Response[Any]:
    """``DELETE /servers/{id}/metadata/{key}``."""
    version = version_of(request)
    require_role(creds)
    sim = dcsim_of(request).sim
    async with sim.transaction() as change:
        vm = servers.find_server(sim.world, creds, server_id)
        record = servers.ensure_record(sim.world, change, vm)
        if key not in record.metadata:
            raise OpenStackError(404, f"Metadata item was not found: {key}")
        del record.metadata[key]
    return answer(None, version, 204)


@get("/servers/{server_id:str}/os-security-groups", sync_to_thread=False)
def server_security_groups(
    request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str]
) -> Response[Any]:
    """``GET /servers/{id}/os-security-groups``: the groups of the server's project it names."""
    version = version_of(request)
    world = dcsim_of(request).sim.world
    vm = servers.find_server(world, creds, server_id)
    record = world.find(ServerRecord, vm.id)
    names = set(record.security_groups if record else ["default"])
    groups = [
        {"id": g.id, "name": g.name, "description": g.description, "tenant_id": g.project_id, "rules": []}
        for g in world.all(SecurityGroup)
        if g.name in names and g.project_id == vm.project_id
    ]
    return answer({"security_groups": groups}, version)


HANDLERS: list[Any] = [
    list_servers,
    list_servers_detail,
    create_server,
    show_server,
    update_server,
    delete_server,
    server_action,
    server_ips,
    server_ips_on,
    show_metadata,
    update_metadata,
    replace_metadata,
    delete_metadata_item,
    server_security_groups,
]

__all__ = ["HANDLERS", "dcsim_of", "version_of"]
