"""UCS's drift source: a blade's running firmware against its service profile's policy.

Registered through core's ``dcsim_drift_register_sources``: core knows blades and their
firmware, only UCS knows that a service profile says which firmware its blade should run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.drift.model import Observation
from dcsim.sim.model import Blade
from dcsim_ucs.model import ServiceProfile

if TYPE_CHECKING:
    from dcsim.drift.model import DriftEvent
    from dcsim.drift.registry import DriftSourceRegistry
    from dcsim.drift.service import DriftService
    from dcsim.model import Event

FIELD = "firmware"
EVENT_TYPES = ("host.degraded", "host.recovered", "service_profile.updated", "service_profile.associated")


def _observe_blade(drift: DriftService, blade_id: str) -> Observation | None:
    world = drift.dcsim.sim.world
    profile = next((p for p in world.all(ServiceProfile) if p.blade_id == blade_id), None)
    if profile is None or not profile.firmware_policy:
        return None
    blade = world.get(Blade, blade_id)
    return Observation(object_id=blade.id, kind="blade", field=FIELD, desired=profile.firmware_policy,
                       actual=blade.firmware, name=blade.name)  # fmt: skip


def _blade_of(drift: DriftService, event: Event) -> str | None:
    data: dict[str, Any] = event.data
    if event.type.startswith("host."):
        return str(data["id"]) if data.get("kind") == "blade" and data.get("id") else None
    if data.get("blade_id"):
        return str(data["blade_id"])
    profile = next((p for p in drift.dcsim.sim.world.all(ServiceProfile) if p.id == data.get("id")), None)
    return profile.blade_id if profile else None


async def observe_firmware(drift: DriftService, event: Event) -> list[Observation]:
    """A blade's health or its profile changed: its firmware against the profile's policy."""
    blade_id = _blade_of(drift, event)
    observation = _observe_blade(drift, blade_id) if blade_id else None
    return [observation] if observation else []


async def sweep_firmware(drift: DriftService) -> list[Observation]:
    """Every associated blade whose profile has a firmware policy."""
    blades = [p.blade_id for p in drift.dcsim.sim.world.all(ServiceProfile) if p.blade_id]
    return [o for o in (_observe_blade(drift, b) for b in blades) if o is not None]


async def recheck_firmware(drift: DriftService, event: DriftEvent) -> Observation | None:
    """The blade of ``event`` observed again."""
    return _observe_blade(drift, event.object_id)


def register_firmware_source(registry: DriftSourceRegistry) -> None:
    """Add the firmware source to core's drift sources."""
    registry.add("ucs-firmware", EVENT_TYPES, observe_firmware, fields=(FIELD,), sweep=sweep_firmware,
                 recheck=recheck_firmware)  # fmt: skip
