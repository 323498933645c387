"""UCS as core's other views see it: node labels, CMDB CIs and inventory groups.

- Node labels of a blade in a UCS domain: ``sim.type=blade`` and ``sim.ucs.chassis``,
  ``.slot``, ``.sp``, ``.org``, ``.template``, ``.macs`` (empty strings when no
  profile is associated); the platform label ``ucs`` comes from its chassis.
- CMDB: a ``service_profile`` CI per profile (``runs_on`` its blade); a blade's CI
  names its profile and template; a chassis' CI is a ``ucs_chassis`` with its domain
  and firmware; the profile and blade events that change them are synced.
- Inventory: UCS blades' nodes join ``ucs_blades`` and ``sp_template_<template>``.
"""

from __future__ import annotations

from typing import Any

from dcsim.cmdb.mapping import InventoryGroupRegistry, Mapped, MappingRegistry, group_name
from dcsim.cmdb.model import Ci, CiSpec, RelationshipSpec
from dcsim.model import Event
from dcsim.sim.labels import NodeLabelRegistry
from dcsim.sim.model import Blade, Chassis
from dcsim.sim.world import World
from dcsim_ucs.model import PLATFORM, ServiceProfile, ServiceProfileTemplate, domain_of, profile_of


def blade_labels(world: World, owner: Any) -> dict[str, str]:
    """The ``sim.ucs.*`` labels of a UCS blade's node (``{}`` for other owners)."""
    if not isinstance(owner, Blade):
        return {}
    chassis = world.get(Chassis, owner.chassis_id)
    if domain_of(world, chassis) is None:
        return {}
    profile = profile_of(world, owner)
    template = world.find(ServiceProfileTemplate, profile.template_id or "") if profile else None
    return {
        "sim.type": "blade",
        "sim.ucs.chassis": chassis.name,
        "sim.ucs.slot": str(owner.slot),
        "sim.ucs.sp": profile.name if profile else "",
        "sim.ucs.org": profile.org if profile else "",
        "sim.ucs.template": template.name if template else "",
        "sim.ucs.macs": ",".join(profile.macs) if profile else "",
    }


def blade_power_context(world: World, owner: Any) -> dict[str, Any]:
    """``service_profile`` of a ``blade.power_changed`` seen outside dc-sim."""
    if not isinstance(owner, Blade):
        return {}
    profile = profile_of(world, owner)
    return {"service_profile": profile.name if profile else None}


def register_labels(registry: NodeLabelRegistry) -> None:
    """UCS's node labels and power context."""
    registry.add(blade_labels)
    registry.add_power_context(blade_power_context)


def map_service_profile(world: World, profile: ServiceProfile) -> Mapped:
    """A service profile as a ``service_profile`` CI, ``runs_on`` its blade."""
    template = world.find(ServiceProfileTemplate, profile.template_id or "")
    attributes = {
        "org": profile.org,
        "template": template.name if template else None,
        "blade": world.get(Blade, profile.blade_id).name if profile.blade_id else None,
        "power": profile.power,
        "firmware_policy": profile.firmware_policy,
        "macs": list(profile.macs),
    }
    relationships = []
    if profile.blade_id:
        relationships.append(RelationshipSpec(type="runs_on", source_id=profile.id, target_id=profile.blade_id))
    spec = CiSpec(type="service_profile", name=profile.name, source_id=profile.id, attributes=attributes,
                  tags={"platform": PLATFORM})  # fmt: skip
    return spec, relationships


def _amend_chassis(world: World, chassis: Chassis, spec: CiSpec, relationships: list[RelationshipSpec]) -> None:
    domain = domain_of(world, chassis)
    if domain is not None:
        spec.attributes.update(kind="ucs_chassis", domain=domain.name, firmware=domain.firmware)


def _amend_blade(world: World, blade: Blade, spec: CiSpec, relationships: list[RelationshipSpec]) -> None:
    if domain_of(world, world.get(Chassis, blade.chassis_id)) is None:
        return
    profile = profile_of(world, blade)
    spec.attributes["service_profile"] = profile.name if profile else None
    if profile and profile.template_id:
        spec.attributes["service_profile_template"] = world.get(ServiceProfileTemplate, profile.template_id).name


def _profile_blade(event: Event) -> list[tuple[str, str]]:
    # A blade's CI names its service profile: (dis)associating changes both.
    blade_id = event.data.get("blade_id") if event.type.startswith("service_profile.") else None
    return [("blade", blade_id)] if blade_id else []


def register_mappings(registry: MappingRegistry) -> None:
    """UCS's CI mappings, amendments of core's chassis and blades, and synced events."""
    registry.add(ServiceProfile, map_service_profile)
    registry.amend(Chassis, _amend_chassis)
    registry.amend(Blade, _amend_blade)
    registry.add_sync_events(("service_profile.*",), related=_profile_blade)


def _template_group(ci: Ci) -> list[str]:
    template = ci.attributes.get("service_profile_template")
    return [group_name("sp_template", template)] if template else []


def register_groups(registry: InventoryGroupRegistry) -> None:
    """``ucs_blades`` (the platform group) and ``sp_template_<template>``."""
    registry.name_platform(PLATFORM, "ucs_blades")
    registry.add(_template_group)


__all__ = ["blade_labels", "map_service_profile", "register_groups", "register_labels", "register_mappings"]
