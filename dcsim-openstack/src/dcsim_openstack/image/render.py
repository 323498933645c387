"""Glance's JSON of an image: its attributes and additional properties, flat."""

from __future__ import annotations

from typing import Any

from dcsim.sim.model import Image
from dcsim_openstack.image.model import GlanceImage

#: When an image without Glance metadata (seed, Nova's createImage) was made, as Glance shows it.
EPOCH = "2026-01-01T00:00:00Z"


def image_body(image: Image, meta: GlanceImage) -> dict[str, Any]:
    """An image as ``GET /v2/images/{id}`` answers it."""
    body: dict[str, Any] = dict(meta.properties)
    body |= {
        "id": image.id, "name": image.name or None, "status": meta.status, "visibility": meta.visibility,
        "protected": meta.protected, "os_hidden": False, "tags": list(meta.tags),
        "disk_format": meta.disk_format, "container_format": meta.container_format,
        "min_disk": image.min_disk_gb, "min_ram": meta.min_ram, "size": meta.size, "virtual_size": None,
        "checksum": meta.checksum, "os_hash_algo": "sha512" if meta.os_hash_value else None,
        "os_hash_value": meta.os_hash_value, "owner": meta.owner,
        "created_at": meta.created_at or EPOCH, "updated_at": meta.updated_at or EPOCH,
        "self": f"/v2/images/{image.id}", "file": f"/v2/images/{image.id}/file", "schema": "/v2/schemas/image",
    }  # fmt: skip
    if "os_distro" not in body:
        body["os_distro"] = image.guest_os.family if image.guest_os.family == "rhel" else "ubuntu"
    return body


__all__ = ["image_body"]
