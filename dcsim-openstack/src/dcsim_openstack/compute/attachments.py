"""Nova's ``/servers/{id}/os-volume_attachments``: attach and detach Cinder volumes.

Attaching sets core's ``Volume.attached_to`` in one engine transaction
(:func:`dcsim_openstack.volume.volumes.attach`); Cinder then shows the volume
``in-use`` with the attachment, and ``available`` again after the detach.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from dcsim.sim.model import Volume
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials, require_role
from dcsim_openstack.compute.microversions import Microversion, answer
from dcsim_openstack.compute.routes import Req, dcsim_of, version_of
from dcsim_openstack.compute.servers import find_server
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.service import read_json
from dcsim_openstack.volume import volumes
from dcsim_openstack.volume.model import VolumeRecord


def attachment_view(world: World, volume: Volume, version: Microversion) -> dict[str, Any]:
    """One attachment as Nova shows it."""
    record = world.find(VolumeRecord, volume.id)
    view: dict[str, Any] = {
        "id": volume.id,
        "serverId": volume.attached_to,
        "volumeId": volume.id,
        "device": record.device if record else None,
    }
    if version.at_least("2.70"):
        view["tag"] = None
    if version.at_least("2.79"):
        view["delete_on_termination"] = False
    return view


@get("/servers/{server_id:str}/os-volume_attachments", sync_to_thread=False)
def list_attachments(request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str]) -> Response[Any]:
    """``GET /servers/{id}/os-volume_attachments``."""
    version = version_of(request)
    world = dcsim_of(request).sim.world
    server = find_server(world, creds, server_id)
    found = [attachment_view(world, v, version) for v in world.all(Volume) if v.attached_to == server.id]
    return answer({"volumeAttachments": found}, version)


@get("/servers/{server_id:str}/os-volume_attachments/{volume_id:str}", sync_to_thread=False)
def show_attachment(
    request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str], volume_id: FromPath[str]
) -> Response[Any]:
    """``GET /servers/{id}/os-volume_attachments/{volume_id}``."""
    version = version_of(request)
    world = dcsim_of(request).sim.world
    server = find_server(world, creds, server_id)
    volume = world.find(Volume, volume_id)
    if volume is None or volume.attached_to != server.id:
        raise OpenStackError(404, f"Volume {volume_id} is not attached to {server.id}")
    return answer({"volumeAttachment": attachment_view(world, volume, version)}, version)


@post("/servers/{server_id:str}/os-volume_attachments", status_code=200)
async def attach_volume(request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str]) -> Response[Any]:
    """``POST /servers/{id}/os-volume_attachments``: ``{"volumeAttachment": {"volumeId": ...}}``."""
    version = version_of(request)
    require_role(creds)
    body = await read_json(request)
    data = body.get("volumeAttachment") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("volumeId"), str):
        raise OpenStackError(400, "Invalid input for field/attribute volumeAttachment. Value: volumeId is required.")
    sim = dcsim_of(request).sim
    async with sim.transaction() as change:
        server = find_server(sim.world, creds, server_id)
        volumes.attach(sim.world, change, creds, server, data["volumeId"], data.get("device"))
    volume = sim.world.get(Volume, data["volumeId"])
    return answer({"volumeAttachment": attachment_view(sim.world, volume, version)}, version)


@delete("/servers/{server_id:str}/os-volume_attachments/{volume_id:str}", status_code=202)
async def detach_volume(
    request: Req, creds: NamedDependency[Credentials], server_id: FromPath[str], volume_id: FromPath[str]
) -> Response[Any]:
    """``DELETE /servers/{id}/os-volume_attachments/{volume_id}``: 202."""
    version = version_of(request)
    require_role(creds)
    sim = dcsim_of(request).sim
    async with sim.transaction() as change:
        server = find_server(sim.world, creds, server_id)
        volumes.detach(sim.world, change, creds, server, volume_id)
    return answer(None, version, 202)


HANDLERS: list[Any] = [list_attachments, show_attachment, attach_volume, detach_volume]

__all__ = ["HANDLERS", "attachment_view"]
