"""Cinder volumes on the engine: create, update, extend, delete, attach, detach, and
their JSON.

Each change is one engine transaction on core's ``Volume`` and this package's
:class:`~dcsim_openstack.volume.model.VolumeRecord`. Attaching sets core's
``Volume.attached_to`` (Nova's ``os-volume_attachments`` calls :func:`attach` and
:func:`detach`); the status follows from it.
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dcsim.model import new_id, utcnow
from dcsim.sim.model import Vm, Volume
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.volume.model import DEFAULT_TYPE, VolumeRecord, VolumeSnapshot, VolumeType

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.sim.events import Change


def iso(moment: datetime | None) -> str | None:
    """Cinder's timestamp form."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000000") if moment is not None else None


def not_found(volume_id: str) -> OpenStackError:
    """Cinder's 404 for a volume."""
    return OpenStackError(404, f"Volume {volume_id} could not be found.")


def find_volume(world: World, creds: Credentials, volume_id: str) -> Volume:
    """A volume the caller may see, by id; Cinder's 404 otherwise."""
    volume = world.find(Volume, volume_id)
    if volume is None or volume.id != volume_id or not (creds.is_admin or volume.project_id == creds.project_id):
        raise not_found(volume_id)
    return volume


def record_of(world: World, change: Change | None, volume: Volume) -> VolumeRecord:
    """The volume's record; made (and saved with ``change``) for a volume Cinder did not create."""
    record = world.find(VolumeRecord, volume.id)
    if record is None:
        record = VolumeRecord(id=volume.id, name=volume.name, project_id=volume.project_id, display_name=volume.name)
        if change is not None:
            world.add(record)
            change.save(record)
    elif change is not None:
        change.save(record)
    return record


def status(volume: Volume) -> str:
    """Cinder's status: ``in-use`` while attached, else ``available``."""
    return "in-use" if volume.attached_to else "available"


def volume_view(world: World, volume: Volume, base: str, *, admin: bool) -> dict[str, Any]:
    """A volume as ``GET /volumes/{id}`` shows it."""
    record = record_of(world, None, volume)
    attachments = []
    if volume.attached_to:
        attachments.append({
            "id": volume.id, "attachment_id": record.attachment_id, "volume_id": volume.id,
            "server_id": volume.attached_to, "host_name": None, "device": record.device,
            "attached_at": iso(record.attached_at or record.updated_at),
        })  # fmt: skip
    view: dict[str, Any] = {
        "id": volume.id,
        "name": record.display_name,
        "status": status(volume),
        "size": volume.size_gb,
        "availability_zone": "nova",
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "attachments": attachments,
        "description": record.description,
        "volume_type": record.volume_type,
        "snapshot_id": record.snapshot_id,
        "source_volid": record.source_volid,
        "metadata": dict(record.metadata),
        "links": [{"rel": "self", "href": f"{base}/volume/v3/volumes/{volume.id}"}],
        "user_id": record.user_id,
        "bootable": "false",
        "encrypted": False,
        "replication_status": None,
        "consistencygroup_id": None,
        "multiattach": False,
        "migration_status": None,
        "os-vol-tenant-attr:tenant_id": volume.project_id,
    }
    if admin:
        view["os-vol-host-attr:host"] = "dcsim@lvm#lvm"
    return view


def _size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit() or int(value) < 1:
        raise OpenStackError(400, f"Invalid input received: size {value!r} must be an integer greater than 0.")
    return int(value)


def _type_name(world: World, ref: Any) -> str:
    if ref is None:
        return DEFAULT_TYPE
    found = world.find(VolumeType, str(ref))
    if found is None and str(ref) != DEFAULT_TYPE:
        raise OpenStackError(404, f"Volume type {ref} could not be found.")
    return found.name if found else DEFAULT_TYPE


async def create_volume(dcsim: DcSim, creds: Credentials, body: Any) -> tuple[Volume, VolumeRecord]:
    """``POST /volumes``: a new, available volume (of a snapshot's or volume's size if from one)."""
    data = body.get("volume") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise OpenStackError(400, "Missing required element 'volume' in request body.")
    name, description = data.get("name"), data.get("description")
    for field, value in (("name", name), ("description", description)):
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise OpenStackError(400, f"Invalid input received: {field} must be a string of at most 255 characters.")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise OpenStackError(400, "Invalid input received: metadata must be an object of strings.")
    if creds.project_id is None:
        raise OpenStackError(403, "A project-scoped token is needed to create a volume.")
    sim = dcsim.sim
    async with sim.transaction() as change:
        world = sim.world
        size = data.get("size")
        snapshot = world.find(VolumeSnapshot, str(data["snapshot_id"])) if data.get("snapshot_id") else None
        if data.get("snapshot_id") and snapshot is None:
            raise OpenStackError(404, f"Snapshot {data['snapshot_id']} could not be found.")
        source = find_volume(world, creds, str(data["source_volid"])) if data.get("source_volid") else None
        base_size = snapshot.size_gb if snapshot else source.size_gb if source else None
        size = _size(size if size is not None else base_size)
        if base_size is not None and size < base_size:
            raise OpenStackError(400, f"Invalid input received: size {size} is smaller than the source's {base_size}.")
        volume_id = new_id()
        core_name = name or f"volume-{volume_id}"
        if world.find(Volume, core_name) is not None:
            core_name = f"{core_name}-{volume_id[:8]}"
        volume = Volume(id=volume_id, name=core_name, project_id=creds.project_id, size_gb=size)
        record = VolumeRecord(
            id=volume_id, name=core_name, project_id=creds.project_id, user_id=creds.user_id, display_name=name,
            description=description, volume_type=_type_name(world, data.get("volume_type")), metadata=dict(metadata),
            snapshot_id=snapshot.id if snapshot else None, source_volid=source.id if source else None,
        )  # fmt: skip
        world.add(volume)
        world.add(record)
        change.save(volume, record)
    return volume, record


async def update_volume(dcsim: DcSim, creds: Credentials, volume_id: str, body: Any) -> Volume:
    """``PUT /volumes/{id}``: name, description, metadata."""
    data = body.get("volume") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise OpenStackError(400, "Missing required element 'volume' in request body.")
    sim = dcsim.sim
    async with sim.transaction() as change:
        volume = find_volume(sim.world, creds, volume_id)
        record = record_of(sim.world, change, volume)
        if "name" in data:
            record.display_name = data["name"]
        if "description" in data:
            record.description = data["description"]
        if isinstance(data.get("metadata"), dict):
            record.metadata = dict(data["metadata"])
        record.updated_at = utcnow()
    return volume


async def extend_volume(dcsim: DcSim, creds: Credentials, volume_id: str, args: Any) -> None:
    """``os-extend``: a bigger size (an available volume only, as before Cinder 3.42)."""
    new_size = _size(args.get("new_size") if isinstance(args, dict) else None)
    sim = dcsim.sim
    async with sim.transaction() as change:
        volume = find_volume(sim.world, creds, volume_id)
        if new_size <= volume.size_gb:
            raise OpenStackError(400, f"Invalid input received: New size for extend must be greater than current size. "
                                 f"(current: {volume.size_gb}, extended: {new_size}).")  # fmt: skip
        if volume.attached_to:
            raise OpenStackError(400, "Invalid volume: Volume status must be 'available' to extend it.")
        volume.size_gb = new_size
        record_of(sim.world, change, volume).updated_at = utcnow()
        change.save(volume)


async def delete_volume(dcsim: DcSim, creds: Credentials, volume_id: str) -> None:
    """``DELETE /volumes/{id}``: refused while attached or while it has snapshots."""
    sim = dcsim.sim
    async with sim.transaction() as change:
        volume = find_volume(sim.world, creds, volume_id)
        if volume.attached_to:
            raise OpenStackError(400, "Invalid volume: Volume status must be available or error or error_restoring "
                                 "or error_extending or error_managing and must not be migrating, attached, belong to "
                                 "a group, have snapshots or be disassociated from snapshots after volume transfer.")  # fmt: skip
        if any(s.volume_id == volume.id for s in sim.world.all(VolumeSnapshot)):
            raise OpenStackError(400, "Invalid volume: Volume still has 1 dependent snapshots.")
        sim.world.remove(volume)
        change.remove(volume)
        record = sim.world.find(VolumeRecord, volume.id)
        if record is not None:
            sim.world.remove(record)
            change.remove(record)


def _next_device(world: World, server: Vm) -> str:
    used = {r.device for v in world.all(Volume) if v.attached_to == server.id
            for r in [world.find(VolumeRecord, v.id)] if r is not None}  # fmt: skip
    # vda is the root disk.
    return next(f"/dev/vd{c}" for c in string.ascii_lowercase[1:] if f"/dev/vd{c}" not in used)


def attach(world: World, change: Change, creds: Credentials, server: Vm, volume_id: str, device: Any) -> VolumeRecord:
    """Attach a volume to ``server`` inside ``change``; a 400 when it is not available."""
    volume = find_volume(world, creds, volume_id)
    if volume.attached_to:
        raise OpenStackError(400, f"Invalid volume: volume {volume_id} status must be available, but current status "
                             "is: in-use.")  # fmt: skip
    record = record_of(world, change, volume)
    volume.attached_to = server.id
    record.device = device if isinstance(device, str) and device else _next_device(world, server)
    record.attachment_id, record.attached_at, record.updated_at = new_id(), utcnow(), utcnow()
    change.save(volume)
    return record


def detach(world: World, change: Change, creds: Credentials, server: Vm, volume_id: str) -> None:
    """Detach a volume from ``server`` inside ``change``; Nova's 404 when it is not attached there."""
    volume = world.find(Volume, volume_id)
    if volume is None or volume.attached_to != server.id:
        raise OpenStackError(404, f"Volume {volume_id} is not attached to {server.id}")
    record = record_of(world, change, volume)
    volume.attached_to = None
    record.device = record.attachment_id = record.attached_at = None
    record.updated_at = utcnow()
    change.save(volume)


__all__ = [
    "attach",
    "create_volume",
    "delete_volume",
    "detach",
    "extend_volume",
    "find_volume",
    "iso",
    "not_found",
    "record_of",
    "status",
    "update_volume",
    "volume_view",
]
