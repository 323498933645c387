"""Glance's operations on the world's images: create, change (JSON patch), upload and
download data, tags, delete. An image is core's ``Image`` (what Nova boots) with its
:class:`~dcsim_openstack.image.model.GlanceImage`; its data is a file under
``<data dir>/openstack/images/``. Each change is one engine transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dcsim.files import private_dir
from dcsim.model import utcnow
from dcsim.sim.model import GuestOs, Image
from dcsim_openstack.auth import Credentials, require_role
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.image.model import GlanceImage

if TYPE_CHECKING:
    from dcsim.app import DcSim

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
VISIBILITIES = ("public", "community", "shared", "private")
#: Attributes Glance sets itself: a client may not.
READ_ONLY = frozenset({
    "id", "status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "created_at",
    "updated_at", "self", "file", "schema", "direct_url", "locations", "owner", "os_hidden", "stores",
})  # fmt: skip
#: Attributes with a type of their own; anything else is an additional (string) property.
BASE = frozenset({"name", "disk_format", "container_format", "visibility", "protected", "min_disk", "min_ram", "tags"})


def timestamp() -> str:
    """Glance's timestamp: ``2026-11-30T05:00:00Z``."""
    return utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")


def guest_of(name: str, properties: dict[str, str]) -> GuestOs:
    """The guest OS an image's node would run: from ``os_distro`` or the name (Ubuntu
    unless it says RHEL, Red Hat, CentOS, Rocky or Alma)."""
    hint = f"{properties.get('os_distro', '')} {name}".lower()
    return GuestOs.RHEL9 if re.search(r"rhel|red ?hat|centos|rocky|alma", hint) else GuestOs.UBUNTU22


class Glance:
    """Images as Glance sees them, for one instance."""

    def __init__(self, dcsim: DcSim) -> None:
        self.dcsim = dcsim
        self.world = dcsim.sim.world

    @property
    def data_dir(self) -> Path:
        """Where image data lives."""
        return self.dcsim.settings.data_dir / "openstack" / "images"

    def meta(self, image: Image) -> GlanceImage:
        """Glance's metadata of ``image`` (the defaults when it has none)."""
        found = self.world.find(GlanceImage, image.id)
        if found is not None and found.id == image.id:
            return found
        return GlanceImage(id=image.id, name=image.name)

    def visible(self, creds: Credentials, meta: GlanceImage) -> bool:
        """Whether the caller sees the image: public and community images, its project's, all for an admin."""
        return creds.is_admin or meta.visibility in ("public", "community") or meta.owner == creds.project_id

    def images(self, creds: Credentials) -> list[tuple[Image, GlanceImage]]:
        """Every image the caller sees."""
        pairs = [(image, self.meta(image)) for image in self.world.all(Image)]
        return [(i, m) for i, m in pairs if self.visible(creds, m)]

    def get(self, creds: Credentials, image_id: str) -> tuple[Image, GlanceImage]:
        """One image the caller sees; Glance's 404 otherwise."""
        image = self.world.find(Image, image_id)
        if image is None or image.id != image_id or not self.visible(creds, self.meta(image)):
            raise OpenStackError(404, f"No image found with ID {image_id}")
        return image, self.meta(image)

    def _owned(self, creds: Credentials, image_id: str) -> tuple[Image, GlanceImage]:
        require_role(creds)
        image, meta = self.get(creds, image_id)
        if not creds.is_admin and meta.owner != creds.project_id:
            raise OpenStackError(403, f"You are not permitted to modify image {image_id}.")
        return image, meta

    async def create(self, creds: Credentials, body: Any) -> tuple[Image, GlanceImage]:
        """``POST /v2/images``: a queued image owned by the caller's project."""
        require_role(creds)
        if not isinstance(body, dict):
            raise OpenStackError(400, "The request body must be a JSON object.")
        image_id = body.get("id") or str(uuid.uuid4())
        if not isinstance(image_id, str) or self.world.find(Image, image_id) is not None:
            raise OpenStackError(409, f"An image with identifier {image_id} already exists")
        body = {k: v for k, v in body.items() if k != "id"}
        forbidden = sorted(READ_ONLY & set(body))
        if forbidden:
            raise OpenStackError(403, f"Attribute '{forbidden[0]}' is read-only.")
        now = timestamp()
        meta = GlanceImage(id=image_id, name=str(body.get("name") or ""), status="queued", disk_format=None,
                           container_format=None, visibility="shared", owner=creds.project_id,
                           created_at=now, updated_at=now)  # fmt: skip
        min_disk = _apply(meta, body)
        image = Image(id=image_id, name=meta.name, guest_os=guest_of(meta.name, meta.properties), min_disk_gb=min_disk)
        async with self.dcsim.sim.transaction() as change:
            if self.world.find(Image, image.name) is not None and image.name:
                raise OpenStackError(409, f"An image named {image.name} already exists.")
            self.world.add(image)
            self.world.add(meta)
            change.save(image, meta)
        return image, meta

    async def update(self, creds: Credentials, image_id: str, operations: Any) -> tuple[Image, GlanceImage]:
        """``PATCH /v2/images/{id}``: JSON-patch operations ``add``, ``replace``, ``remove``."""
        if not isinstance(operations, list):
            raise OpenStackError(400, "The request body must be a list of JSON-patch operations.")
        image, meta = self._owned(creds, image_id)
        changes: dict[str, Any] = {}
        removed: list[str] = []
        tags = list(meta.tags)
        for op in operations:
            if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
                raise OpenStackError(400, f"Unable to apply the patch operation {op}.")
            path = str(op.get("path", "")).lstrip("/")
            if not path or path in READ_ONLY:
                raise OpenStackError(403, f"Attribute '{path}' is read-only.")
            if path.startswith("tags/"):
                # A JSON pointer into the tag list (openstacksdk diffs lists item by item).
                changes["tags"] = tags = _patch_list(tags, op["op"], path.removeprefix("tags/"), op.get("value"))
            elif op["op"] == "remove":
                if path in BASE or path not in meta.properties:
                    raise OpenStackError(409 if path in BASE else 404, f"Cannot remove attribute '{path}'.")
                removed.append(path)
            else:
                changes[path] = op.get("value")
        async with self.dcsim.sim.transaction() as change:
            image, meta = self._owned(creds, image_id)
            # Checked on a copy first: a refused patch changes nothing.
            _apply(GlanceImage(id=meta.id, name=meta.name), changes)
            name = changes.get("name", image.name) or ""
            if name != image.name and name and self.world.find(Image, name) is not None:
                raise OpenStackError(409, f"An image named {name} already exists.")
            meta = self._stored(meta)
            # Out of the world while renamed, so its name index follows.
            self.world.remove(image)
            self.world.remove(meta)
            min_disk = _apply(meta, changes, current_min_disk=image.min_disk_gb)
            for key in removed:
                meta.properties.pop(key, None)
            image.name, image.min_disk_gb = meta.name, min_disk
            self.world.add(image)
            self.world.add(meta)
            meta.updated_at = timestamp()
            change.save(image, meta)
        return image, meta

    def _stored(self, meta: GlanceImage) -> GlanceImage:
        """``meta``, in the world (an image that had only defaults gets its own record)."""
        if self.world.find(GlanceImage, meta.id) is None:
            meta.created_at = meta.updated_at = timestamp()
            self.world.add(meta)
        return meta

    def path(self, image_id: str) -> Path:
        """The file of an image's data."""
        return self.data_dir / image_id

    async def upload(self, creds: Credentials, image_id: str, data: bytes) -> None:
        """``PUT /v2/images/{id}/file``: store the data of a queued image; it becomes active."""
        _, meta = self._owned(creds, image_id)
        if meta.status != "queued":
            raise OpenStackError(409, f"Image status transition from {meta.status} to saving is not allowed")
        if not meta.disk_format or not meta.container_format:
            raise OpenStackError(400, "Properties disk_format, container_format must be set prior to saving data.")

        def write() -> None:
            private_dir(self.data_dir)
            self.path(image_id).write_bytes(data)

        await asyncio.to_thread(write)
        async with self.dcsim.sim.transaction() as change:
            _, meta = self._owned(creds, image_id)
            meta = self._stored(meta)
            meta.status, meta.size = "active", len(data)
            meta.checksum = hashlib.md5(data, usedforsecurity=False).hexdigest()
            meta.os_hash_value = hashlib.sha512(data).hexdigest()
            meta.updated_at = timestamp()
            change.save(meta)

    async def download(self, creds: Credentials, image_id: str) -> tuple[GlanceImage, bytes | None]:
        """The data of an image (None when it has none)."""
        _, meta = self.get(creds, image_id)
        path = self.path(image_id)
        data = await asyncio.to_thread(path.read_bytes) if path.exists() else None
        return meta, data

    async def tag(self, creds: Credentials, image_id: str, tag: str, *, add: bool) -> None:
        """Add or remove a tag."""
        if add and (not tag or len(tag) > 255):
            raise OpenStackError(400, "A tag is 1 to 255 characters.")
        async with self.dcsim.sim.transaction() as change:
            _, meta = self._owned(creds, image_id)
            meta = self._stored(meta)
            if add and tag not in meta.tags:
                meta.tags.append(tag)
            elif not add:
                if tag not in meta.tags:
                    raise OpenStackError(404, f"Tag {tag} not found.")
                meta.tags.remove(tag)
            meta.updated_at = timestamp()
            change.save(meta)

    async def delete(self, creds: Credentials, image_id: str) -> None:
        """``DELETE /v2/images/{id}``: the image, its metadata and its data (not a protected one)."""
        async with self.dcsim.sim.transaction() as change:
            image, meta = self._owned(creds, image_id)
            if meta.protected:
                raise OpenStackError(403, f"Image {image_id} is protected and cannot be deleted.")
            self.world.remove(image)
            change.remove(image)
            stored = self.world.find(GlanceImage, image_id)
            if stored is not None:
                self.world.remove(stored)
                change.remove(stored)
        await asyncio.to_thread(self.path(image_id).unlink, missing_ok=True)


def _apply(meta: GlanceImage, values: dict[str, Any], current_min_disk: int = 0) -> int:
    """Set ``values`` on ``meta`` (checked as Glance checks them); the minimum disk."""
    min_disk = current_min_disk
    for key, value in values.items():
        if key == "name":
            _check(value is None or (isinstance(value, str) and len(value) <= 255), key)
            meta.name = value or ""
        elif key == "disk_format":
            _check(value is None or value in DISK_FORMATS, key)
            meta.disk_format = value
        elif key == "container_format":
            _check(value is None or value in CONTAINER_FORMATS, key)
            meta.container_format = value
        elif key == "visibility":
            _check(value in VISIBILITIES, key)
            meta.visibility = value
        elif key == "protected":
            _check(isinstance(value, bool), key)
            meta.protected = value
        elif key in ("min_disk", "min_ram"):
            _check(isinstance(value, int) and not isinstance(value, bool) and value >= 0, key)
            if key == "min_ram":
                meta.min_ram = value
            else:
                min_disk = value
        elif key == "tags":
            _check(isinstance(value, list) and all(isinstance(t, str) and 0 < len(t) <= 255 for t in value), key)
            meta.tags = list(dict.fromkeys(value))
        else:
            _check(isinstance(value, str) and len(key) <= 255, key)
            meta.properties[key] = value
    return min_disk


def _patch_list(items: list[Any], op: str, index: str, value: Any) -> list[Any]:
    """``items`` after one JSON-patch operation at ``index`` (a position, or ``-``: the end)."""
    items = list(items)
    if index == "-" and op == "add":
        return [*items, value]
    if not index.isdigit() or int(index) > len(items) or (op != "add" and int(index) == len(items)):
        raise OpenStackError(400, f"Unable to apply the patch operation at tags/{index}.")
    position = int(index)
    if op == "add":
        items.insert(position, value)
    elif op == "replace":
        items[position] = value
    else:
        del items[position]
    return items


def _check(ok: bool, key: str) -> None:
    if not ok:
        raise OpenStackError(400, f"Invalid value for attribute '{key}'.")


__all__ = ["CONTAINER_FORMATS", "DISK_FORMATS", "VISIBILITIES", "Glance", "guest_of", "timestamp"]
