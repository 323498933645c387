"""What dc-sim needs in NetBox before a CI is written, made when missing (idempotent).

At start: the custom fields, the device roles, the fallback cluster type, manufacturer
and device type, the ``dc-sim unplaced`` site, the VRF and a tenant group per CI type
without a NetBox model. On demand, when a CI needs one: its cluster type, manufacturer,
device type, tenant group and tags. Nothing here names a vendor: a cluster's type comes
from its ``platform`` tag and a host's manufacturer from its ``manufacturer`` attribute.
Every method makes blocking NetBox calls: run them through ``NetboxClient.run``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.cmdb.netbox.client import PAGE_SIZE
from dcsim.cmdb.netbox.objects import CHANGELOG_PREFIX, CUSTOM_FIELDS, MODELS, NATIVE_MODELS, slugify, tag_slug

if TYPE_CHECKING:
    from dcsim.cmdb.model import Ci
    from dcsim.cmdb.netbox.client import NetboxClient

CUSTOM_FIELD_GROUP = "dc-sim"
#: The cluster type of clusters without a ``platform`` tag.
OTHER_CLUSTER_TYPE = ("dc-sim", "dcsim")
#: Device roles by slug: a host's ``role`` tag ``bare_metal`` picks bare-metal, anything else hypervisor.
DEVICE_ROLES = {"hypervisor": ("hypervisor", "2196f3"), "bare-metal": ("bare-metal", "795548")}
#: The manufacturer of hosts without a ``manufacturer`` attribute, and the device type of
#: hosts without a ``model``.
OTHER_MANUFACTURER = ("dc-sim", "dcsim")
DEFAULT_DEVICE_TYPE = "Simulated host"
#: Where devices and VMs wait until a relationship places them (NetBox requires a site).
UNPLACED_SITE = ("dc-sim unplaced", "dcsim-unplaced")
#: The VRF of dc-sim's prefixes: simulated networks overlap (every tenant project may have
#: its 10.0.0.0/24), which NetBox refuses in its global table but allows in such a VRF.
VRF = "dc-sim"
TAG_COLOURS = {
    "env": "4caf50",
    "os": "2196f3",
    "platform": "9c27b0",
    "role": "ff9800",
    "owner": "607d8b",
    "tier": "795548",
}
_BOOTSTRAP = CHANGELOG_PREFIX + "bootstrap"


def cluster_type_of(ci: Ci) -> tuple[str, str]:
    """(name, slug) of a cluster CI's NetBox cluster type.

    The slug is the CI's ``platform`` tag; the name its ``platform_name`` attribute, else
    the platform title-cased; a cluster without a platform gets :data:`OTHER_CLUSTER_TYPE`.
    """
    platform = ci.tags.get("platform")
    if not platform:
        return OTHER_CLUSTER_TYPE
    name = ci.attributes.get("platform_name")
    return (name.strip() if isinstance(name, str) and name.strip() else platform.title()), slugify(platform)


def manufacturer_of(ci: Ci) -> tuple[str, str]:
    """(name, slug) of a host CI's manufacturer: its ``manufacturer`` attribute, else
    :data:`OTHER_MANUFACTURER`."""
    name = ci.attributes.get("manufacturer")
    if isinstance(name, str) and name.strip():
        return name.strip(), slugify(name)
    return OTHER_MANUFACTURER


class NetboxSchema:
    """The NetBox objects dc-sim's CIs refer to, by slug or name -> NetBox id."""

    def __init__(self, client: NetboxClient) -> None:
        self.client = client
        #: The object type id of sites (change log snapshots name scopes by it).
        self.site_type: int | None = None
        self.unplaced_site = 0
        self.vrf = 0
        self.roles: dict[str, int] = {}
        self._cluster_types: dict[str, int] = {}
        self._manufacturers: dict[str, int] = {}
        self._device_types: dict[tuple[int, str], int] = {}
        self._tenant_groups: dict[str, int] = {}
        self._tags: dict[str, int] = {}

    def bootstrap(self, ci_types: list[str]) -> None:
        """Create what every start needs, unless it exists; forget what was made on demand
        (NetBox may have come back with other data, a restored database)."""
        api = self.client.api
        self._tags, self._device_types = {}, {}
        self._ensure_custom_fields()
        self.site_type = api.core.object_types.get(app_label="dcim", model="site").id
        name, slug = OTHER_CLUSTER_TYPE
        self._cluster_types = self._ensure(api.virtualization.cluster_types, {slug: {"name": name}})
        roles = {slug: {"name": name, "color": colour} for slug, (name, colour) in DEVICE_ROLES.items()}
        self.roles = self._ensure(api.dcim.device_roles, roles)
        name, slug = OTHER_MANUFACTURER
        self._manufacturers = self._ensure(api.dcim.manufacturers, {slug: {"name": name}})
        name, slug = UNPLACED_SITE
        description = "dc-sim places devices and VMs here until their cluster or host is known"
        self.unplaced_site = self._ensure(
            api.dcim.sites, {slug: {"name": name, "status": "planned", "description": description}}
        )[slug]
        vrf = api.ipam.vrfs.get(name=VRF) or api.ipam.vrfs.create(
            name=VRF,
            enforce_unique=False,
            description="the simulated datacenter's networks",
            changelog_message=_BOOTSTRAP,
        )
        self.vrf = vrf.id
        without_model = [ci_type for ci_type in ci_types if ci_type not in NATIVE_MODELS]
        self._tenant_groups = self._ensure(
            api.tenancy.tenant_groups,
            {f"dcsim-{slugify(ci_type)}": {"name": f"dc-sim {ci_type}"} for ci_type in without_model},
        )
        self._device_type(OTHER_MANUFACTURER, DEFAULT_DEVICE_TYPE)

    def cluster_type(self, ci: Ci) -> int:
        """The id of the cluster type of cluster CI ``ci`` (:func:`cluster_type_of`)."""
        name, slug = cluster_type_of(ci)
        if slug not in self._cluster_types:
            self._cluster_types |= self._ensure(self.client.api.virtualization.cluster_types, {slug: {"name": name}})
        return self._cluster_types[slug]

    def device_type(self, ci: Ci) -> int:
        """The id of host CI ``ci``'s device type: its ``model`` attribute (else
        :data:`DEFAULT_DEVICE_TYPE`) by its manufacturer (:func:`manufacturer_of`)."""
        model = ci.attributes.get("model")
        return self._device_type(manufacturer_of(ci), model if isinstance(model, str) and model else None)

    def tenant_group(self, ci_type: str) -> int:
        """The id of the tenant group of CIs of ``ci_type`` (types without a NetBox model)."""
        slug = f"dcsim-{slugify(ci_type)}"
        if slug not in self._tenant_groups:
            endpoint = self.client.api.tenancy.tenant_groups
            self._tenant_groups |= self._ensure(endpoint, {slug: {"name": f"dc-sim {ci_type}"}})
        return self._tenant_groups[slug]

    def tag_ids(self, tags: dict[str, str]) -> list[int]:
        """Ids of the NetBox tags ``key:value`` of ``tags``, created when missing."""
        names = {f"{key}:{value}": (key, value) for key, value in tags.items()}
        missing = [name for name in names if name not in self._tags]
        if missing:
            endpoint = self.client.api.extras.tags
            self._tags |= {tag.name: tag.id for tag in endpoint.filter(name=missing, limit=PAGE_SIZE)}
            new = [
                {
                    "name": name,
                    "slug": tag_slug(*names[name]),
                    "color": TAG_COLOURS.get(names[name][0], "9e9e9e"),
                    "description": "a dc-sim CI tag",
                    "changelog_message": _BOOTSTRAP,
                }
                for name in missing
                if name not in self._tags
            ]
            if new:
                self._tags |= {tag.name: tag.id for tag in endpoint.create(new)}
        return sorted(self._tags[name] for name in names)

    def _ensure_custom_fields(self) -> None:
        wanted = {
            name: {**spec, "object_types": spec.get("object_types", list(MODELS)), "group_name": CUSTOM_FIELD_GROUP}
            for name, spec in CUSTOM_FIELDS.items()
        }
        endpoint = self.client.api.extras.custom_fields
        existing = {field.name: field for field in endpoint.filter(name=list(wanted))}
        updates = [
            {"id": field.id, "object_types": sorted({*field.object_types, *wanted[name]["object_types"]})}
            for name, field in existing.items()
            if not set(wanted[name]["object_types"]) <= set(field.object_types)
        ]
        if updates:
            endpoint.update([{**update, "changelog_message": _BOOTSTRAP} for update in updates])
        missing = [
            {"name": name, **spec, "changelog_message": _BOOTSTRAP}
            for name, spec in wanted.items()
            if name not in existing
        ]
        if missing:
            endpoint.create(missing)

    def _ensure(self, endpoint: Any, wanted: dict[str, dict[str, Any]]) -> dict[str, int]:
        """Slug -> id of objects that must exist, created when they do not (one call each way)."""
        found = {item.slug: item.id for item in endpoint.filter(slug=list(wanted), limit=PAGE_SIZE)}
        missing = [
            {"slug": slug, **fields, "changelog_message": _BOOTSTRAP}
            for slug, fields in wanted.items()
            if slug not in found
        ]
        if missing:
            found |= {item.slug: item.id for item in endpoint.create(missing)}
        return found

    def _device_type(self, manufacturer: tuple[str, str], model: str | None) -> int:
        name, slug = manufacturer
        if slug not in self._manufacturers:
            self._manufacturers |= self._ensure(self.client.api.dcim.manufacturers, {slug: {"name": name}})
        manufacturer_id = self._manufacturers[slug]
        key = (manufacturer_id, model or DEFAULT_DEVICE_TYPE)
        if key not in self._device_types:
            endpoint = self.client.api.dcim.device_types
            existing = endpoint.get(manufacturer_id=manufacturer_id, model=key[1])
            if existing is None:
                # Height 0: simulated hosts sit in no rack.
                fields = {"manufacturer": manufacturer_id, "model": key[1], "slug": slugify(key[1]), "u_height": 0}
                existing = endpoint.create(**fields, changelog_message=_BOOTSTRAP)
            self._device_types[key] = existing.id
        return self._device_types[key]
