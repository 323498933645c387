"""Glance's side of an image: what core's ``Image`` (name, guest OS, minimum disk) does
not hold. An image without one (the seed's, one Nova's ``createImage`` made) is an
active public image with Glance's defaults."""

from __future__ import annotations

import attrs


@attrs.define(kw_only=True)
class GlanceImage:
    """Glance's metadata of the core image with the same id; ``properties`` are the
    image's additional properties (``os_distro``, ``owner_specified.openstack.md5``...)."""

    id: str
    name: str
    status: str = "active"
    disk_format: str | None = "qcow2"
    container_format: str | None = "bare"
    visibility: str = "public"
    owner: str | None = None
    protected: bool = False
    min_ram: int = 0
    tags: list[str] = attrs.field(factory=list)
    size: int | None = None
    checksum: str | None = None
    os_hash_value: str | None = None
    created_at: str = ""
    updated_at: str = ""
    properties: dict[str, str] = attrs.field(factory=dict)


#: Glance's kinds by the names core's world, store and API use.
IMAGE_KINDS: dict[str, type] = {"glance_image": GlanceImage}

__all__ = ["IMAGE_KINDS", "GlanceImage"]
