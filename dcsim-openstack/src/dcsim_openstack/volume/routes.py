"""Cinder's routes under ``/volume/v3``: volumes, volume actions, snapshots, volume types.

Every handler negotiates the ``volume`` microversion (3.0 to the advertised maximum),
checks the token, and answers Cinder's JSON with ``OpenStack-API-Version: volume 3.x``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath

from dcsim.app import DcSim
from dcsim.model import new_id
from dcsim.sim.model import Volume
from dcsim_openstack.auth import Credentials, require_role
from dcsim_openstack.compute.microversions import Microversion, answer, negotiate
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.service import SERVICES, base_url, read_json
from dcsim_openstack.volume import volumes
from dcsim_openstack.volume.model import VolumeRecord, VolumeSnapshot, VolumeType

Req = Request[Any, Any, Any]


def version_of(request: Req) -> Microversion:
    """The request's volume microversion."""
    return negotiate(request, SERVICES["volume"], "volume")


def _dcsim(request: Req) -> DcSim:
    dcsim: DcSim = request.app.state.dcsim
    return dcsim


def _listed(request: Req, creds: Credentials) -> list[Volume]:
    world = _dcsim(request).sim.world
    query = request.query_params
    all_projects = creds.is_admin and query.get("all_tenants", "") not in ("", "0", "false", "False")
    found = []
    for volume in world.all(Volume):
        if not all_projects and volume.project_id != creds.project_id:
            continue
        record = world.find(VolumeRecord, volume.id)
        name = record.display_name if record else volume.name
        if query.get("name") and name != query["name"]:
            continue
        if query.get("status") and volumes.status(volume) != query["status"]:
            continue
        found.append(volume)
    if query.get("limit"):
        found = found[: int(query["limit"])]
    return found


@get("/volumes", sync_to_thread=False)
def list_volumes(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /volumes``: id, name and links."""
    version, base = version_of(request), base_url(request)
    world = _dcsim(request).sim.world
    items = []
    for volume in _listed(request, creds):
        view = volumes.volume_view(world, volume, base, admin=False)
        items.append({"id": view["id"], "name": view["name"], "links": view["links"]})
    return answer({"volumes": items}, version)


@get("/volumes/detail", sync_to_thread=False)
def list_volumes_detail(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /volumes/detail``."""
    version, base = version_of(request), base_url(request)
    world = _dcsim(request).sim.world
    items = [volumes.volume_view(world, v, base, admin=creds.is_admin) for v in _listed(request, creds)]
    return answer({"volumes": items}, version)


@post("/volumes", status_code=202)
async def create_volume(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``POST /volumes``: 202; the volume is available at once."""
    version = version_of(request)
    require_role(creds)
    dcsim = _dcsim(request)
    volume, _ = await volumes.create_volume(dcsim, creds, await read_json(request))
    view = volumes.volume_view(dcsim.sim.world, volume, base_url(request), admin=creds.is_admin)
    return answer({"volume": view}, version, 202)


@get("/volumes/{volume_id:str}", sync_to_thread=False)
def show_volume(request: Req, creds: NamedDependency[Credentials], volume_id: FromPath[str]) -> Response[Any]:
    """``GET /volumes/{id}``."""
    version = version_of(request)
    world = _dcsim(request).sim.world
    volume = volumes.find_volume(world, creds, volume_id)
    return answer({"volume": volumes.volume_view(world, volume, base_url(request), admin=creds.is_admin)}, version)


@put("/volumes/{volume_id:str}")
async def update_volume(request: Req, creds: NamedDependency[Credentials], volume_id: FromPath[str]) -> Response[Any]:
    """``PUT /volumes/{id}``."""
    version = version_of(request)
    require_role(creds)
    dcsim = _dcsim(request)
    volume = await volumes.update_volume(dcsim, creds, volume_id, await read_json(request))
    view = volumes.volume_view(dcsim.sim.world, volume, base_url(request), admin=creds.is_admin)
    return answer({"volume": view}, version)


@delete("/volumes/{volume_id:str}", status_code=202)
async def delete_volume(request: Req, creds: NamedDependency[Credentials], volume_id: FromPath[str]) -> Response[Any]:
    """``DELETE /volumes/{id}``: 202."""
    version = version_of(request)
    require_role(creds)
    await volumes.delete_volume(_dcsim(request), creds, volume_id)
    return answer(None, version, 202)


@post("/volumes/{volume_id:str}/action", status_code=202)
async def volume_action(request: Req, creds: NamedDependency[Credentials], volume_id: FromPath[str]) -> Response[Any]:
    """``POST /volumes/{id}/action``: ``os-extend`` (attach and detach go through Nova)."""
    version = version_of(request)
    body = await read_json(request)
    if not isinstance(body, dict) or len(body) != 1:
        raise OpenStackError(400, "The action body must be an object with one action.")
    [(action, args)] = body.items()
    require_role(creds)
    if action != "os-extend":
        volumes.find_volume(_dcsim(request).sim.world, creds, volume_id)
        raise OpenStackError(400, f"There is no such action: {action}")
    await volumes.extend_volume(_dcsim(request), creds, volume_id, args)
    return answer(None, version, 202)


# Snapshots ----------------------------------------------------------------------------


def _snapshot_view(snapshot: VolumeSnapshot) -> dict[str, Any]:
    return {
        "id": snapshot.id,
        "name": snapshot.name or None,
        "description": snapshot.description,
        "volume_id": snapshot.volume_id,
        "status": "available",
        "size": snapshot.size_gb,
        "created_at": volumes.iso(snapshot.created_at),
        "updated_at": volumes.iso(snapshot.created_at),
        "metadata": dict(snapshot.metadata),
        "os-extended-snapshot-attributes:progress": "100%",
        "os-extended-snapshot-attributes:project_id": snapshot.project_id,
    }


def _snapshots(request: Req, creds: Credentials) -> list[VolumeSnapshot]:
    world = _dcsim(request).sim.world
    return [s for s in world.all(VolumeSnapshot) if creds.is_admin or s.project_id == creds.project_id]


def _find_snapshot(request: Req, creds: Credentials, snapshot_id: str) -> VolumeSnapshot:
    found = next((s for s in _snapshots(request, creds) if s.id == snapshot_id), None)
    if found is None:
        raise OpenStackError(404, f"Snapshot {snapshot_id} could not be found.")
    return found


@get("/snapshots", sync_to_thread=False)
def list_snapshots(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /snapshots``."""
    return answer({"snapshots": [_snapshot_view(s) for s in _snapshots(request, creds)]}, version_of(request))


@get("/snapshots/detail", sync_to_thread=False)
def list_snapshots_detail(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /snapshots/detail``."""
    return answer({"snapshots": [_snapshot_view(s) for s in _snapshots(request, creds)]}, version_of(request))


@get("/snapshots/{snapshot_id:str}", sync_to_thread=False)
def show_snapshot(request: Req, creds: NamedDependency[Credentials], snapshot_id: FromPath[str]) -> Response[Any]:
    """``GET /snapshots/{id}``."""
    return answer({"snapshot": _snapshot_view(_find_snapshot(request, creds, snapshot_id))}, version_of(request))


@post("/snapshots", status_code=202)
async def create_snapshot(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``POST /snapshots``: of an available volume, or of an attached one with ``force``."""
    version = version_of(request)
    require_role(creds)
    body = await read_json(request)
    data = body.get("snapshot") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("volume_id"), str):
        raise OpenStackError(400, "Missing required element 'snapshot' (with a volume_id) in request body.")
    sim = _dcsim(request).sim
    async with sim.transaction() as change:
        volume = volumes.find_volume(sim.world, creds, data["volume_id"])
        if volume.attached_to and str(data.get("force", False)).lower() not in ("true", "1"):
            raise OpenStackError(400, "Invalid volume: Volume status must be available to snapshot it (or use force).")
        snapshot = VolumeSnapshot(
            id=new_id(), name=str(data.get("name") or ""), volume_id=volume.id, project_id=volume.project_id,
            size_gb=volume.size_gb, description=data.get("description"), metadata=dict(data.get("metadata") or {}),
        )  # fmt: skip
        sim.world.add(snapshot)
        change.save(snapshot)
    return answer({"snapshot": _snapshot_view(snapshot)}, version, 202)


@delete("/snapshots/{snapshot_id:str}", status_code=202)
async def delete_snapshot(
    request: Req, creds: NamedDependency[Credentials], snapshot_id: FromPath[str]
) -> Response[Any]:
    """``DELETE /snapshots/{id}``: 202."""
    version = version_of(request)
    require_role(creds)
    sim = _dcsim(request).sim
    async with sim.transaction() as change:
        snapshot = _find_snapshot(request, creds, snapshot_id)
        sim.world.remove(snapshot)
        change.remove(snapshot)
    return answer(None, version, 202)


# Volume types -------------------------------------------------------------------------


def _type_view(volume_type: VolumeType) -> dict[str, Any]:
    return {
        "id": volume_type.id,
        "name": volume_type.name,
        "description": volume_type.description,
        "is_public": volume_type.is_public,
        "os-volume-type-access:is_public": volume_type.is_public,
        "extra_specs": dict(volume_type.extra_specs),
        "qos_specs_id": None,
    }


@get("/types", sync_to_thread=False)
def list_types(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``GET /types``."""
    types = _dcsim(request).sim.world.all(VolumeType)
    return answer({"volume_types": [_type_view(t) for t in types]}, version_of(request))


@get("/types/{type_id:str}", sync_to_thread=False)
def show_type(request: Req, creds: NamedDependency[Credentials], type_id: FromPath[str]) -> Response[Any]:
    """``GET /types/{id}`` (``default``: the default type)."""
    world = _dcsim(request).sim.world
    found = world.find(VolumeType, "__DEFAULT__" if type_id == "default" else type_id)
    if found is None:
        raise OpenStackError(404, f"Volume type {type_id} could not be found.")
    return answer({"volume_type": _type_view(found)}, version_of(request))


@post("/types", status_code=200)
async def create_type(request: Req, creds: NamedDependency[Credentials]) -> Response[Any]:
    """``POST /types`` (admin)."""
    version = version_of(request)
    require_role(creds, admin=True)
    body = await read_json(request)
    data = body.get("volume_type") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"].strip():
        raise OpenStackError(400, "Missing required element 'volume_type' (with a name) in request body.")
    sim = _dcsim(request).sim
    async with sim.transaction() as change:
        if any(t.name == data["name"] for t in sim.world.all(VolumeType)):
            raise OpenStackError(409, f"Volume Type {data['name']} already exists.")
        specs = data.get("extra_specs") or {}
        volume_type = VolumeType(id=new_id(), name=data["name"], description=data.get("description"),
                                 is_public=bool(data.get("os-volume-type-access:is_public", True)),
                                 extra_specs={str(k): str(v) for k, v in dict(specs).items()})  # fmt: skip
        sim.world.add(volume_type)
        change.save(volume_type)
    return answer({"volume_type": _type_view(volume_type)}, version)


@delete("/types/{type_id:str}", status_code=202)
async def delete_type(request: Req, creds: NamedDependency[Credentials], type_id: FromPath[str]) -> Response[Any]:
    """``DELETE /types/{id}`` (admin); refused while a volume has the type."""
    version = version_of(request)
    require_role(creds, admin=True)
    sim = _dcsim(request).sim
    async with sim.transaction() as change:
        found = sim.world.find(VolumeType, type_id)
        if found is None or found.id != type_id:
            raise OpenStackError(404, f"Volume type {type_id} could not be found.")
        if any(r.volume_type == found.name for r in sim.world.all(VolumeRecord)):
            raise OpenStackError(400, f"Target volume type is still in use. Volume Type {type_id} deletion failed.")
        sim.world.remove(found)
        change.remove(found)
    return answer(None, version, 202)


HANDLERS: list[Any] = [
    list_volumes,
    list_volumes_detail,
    create_volume,
    show_volume,
    update_volume,
    delete_volume,
    volume_action,
    list_snapshots,
    list_snapshots_detail,
    show_snapshot,
    create_snapshot,
    delete_snapshot,
    list_types,
    show_type,
    create_type,
    delete_type,
]

__all__ = ["HANDLERS", "version_of"]
