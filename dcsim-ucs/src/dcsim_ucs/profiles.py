"""Service-profile lifecycle, on core's engine API: create, associate, disassociate,
desired power, firmware policy, delete.

Each operation is one ``sim.transaction()``: checked first, then the objects changed,
saved together, the blade's node driven (labels and power) and the events published.
A blade follows its profile's desired power; a firmware policy the blade does not meet
degrades it through a ``firmware-mismatch`` fault (``source: policy``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.convert import to_json
from dcsim.errors import Conflict, InvalidInput
from dcsim.model import new_id
from dcsim.sim.events import Change
from dcsim.sim.faults import Fault, new_fault
from dcsim.sim.model import Blade, Chassis, HealthStatus, PowerState
from dcsim_ucs.faults import FIRMWARE_MISMATCH, firmware_mismatch, restore_firmware
from dcsim_ucs.model import (
    PLATFORM,
    ServiceProfile,
    ServiceProfileTemplate,
    UcsDomain,
    check_profile_name,
    domain_id_of,
)

if TYPE_CHECKING:
    from dcsim.sim.engine import Simulation

#: A service profile's desired power and the blade power it means.
SP_POWER = {"up": PowerState.ON, "down": PowerState.OFF}

#: The event types of service profiles and blades that UCS publishes.
EVENT_TYPES: dict[str, tuple[str, dict[str, str]]] = {
    "service_profile.created": (
        "a UCS service profile was created (unassociated)",
        {"service_profile": "the service profile as GET /sim/state shows it"},
    ),
    "service_profile.deleted": (
        "a UCS service profile was deleted (after its disassociation, if it was associated)",
        {"service_profile": "the service profile as it was"},
    ),
    "service_profile.associated": (
        "a service profile was associated with a blade",
        {"id": "service profile id", "name": "service profile name", "blade": "blade name", "blade_id": "blade id"},
    ),
    "service_profile.disassociated": (
        "a service profile was disassociated from its blade",
        {"id": "service profile id", "name": "service profile name", "blade": "blade name", "blade_id": "blade id"},
    ),
    "service_profile.updated": (
        "a service profile's desired power or firmware policy changed",
        {"id": "service profile id", "name": "service profile name", "changes": "field -> [before, after]"},
    ),
}


class ServiceProfiles:
    """The service-profile operations of one instance (``UcsManager.profiles``)."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim

    def service_profile(self, ref: str) -> ServiceProfile:
        """A service profile by id or name."""
        return self.sim.world.get(ServiceProfile, ref)

    async def create_service_profile(
        self,
        name: str,
        *,
        template: str | None = None,
        org: str = "org-root",
        domain: str | None = None,
        firmware_policy: str | None = None,
        power: str = "up",
        description: str = "",
    ) -> ServiceProfile:
        """Create an unassociated service profile, from ``template`` or in ``domain``.

        Domain and firmware policy default to the template's, else to the only UCS
        domain and its firmware. Two MACs are allocated from the profile's id.
        """
        world = self.sim.world
        async with self.sim.transaction() as change:
            check_profile_name(name)
            if world.find(ServiceProfile, name) or world.find(ServiceProfileTemplate, name):
                raise Conflict(f"a service profile or template named {name!r} already exists")
            _check_power(power)
            if not org:
                raise InvalidInput("give an org")
            profile_template = world.get(ServiceProfileTemplate, template) if template is not None else None
            if profile_template is not None:
                ucs = world.get(UcsDomain, profile_template.domain_id)
                if domain is not None and world.get(UcsDomain, domain).id != ucs.id:
                    raise InvalidInput(f"template {profile_template.name} belongs to {ucs.name}, not to {domain}")
                default_firmware = profile_template.firmware
            else:
                ucs = self._domain(domain)
                default_firmware = ucs.firmware
            profile_id = new_id()
            profile = ServiceProfile(
                id=profile_id,
                name=name,
                domain_id=ucs.id,
                template_id=profile_template.id if profile_template else None,
                org=org,
                power=power,
                firmware_policy=default_firmware if firmware_policy is None else firmware_policy,
                macs=self._new_macs(profile_id, 2),
                description=description,
            )
            world.add(profile)
            change.save(profile)
            change.event("service_profile.created", {"service_profile": to_json(profile)}, profile)
            return profile

    async def delete_service_profile(self, ref: str) -> ServiceProfile:
        """Delete a service profile, disassociating it first if it is associated."""
        async with self.sim.transaction() as change:
            profile = self.service_profile(ref)
            if profile.blade_id:
                self._disassociate(profile, change)
            self.sim.world.remove(profile)
            change.remove(profile)
            change.event("service_profile.deleted", {"service_profile": to_json(profile)}, profile)
            return profile

    async def associate_service_profile(self, ref: str, blade: str) -> ServiceProfile:
        """Put a service profile on a free, working blade of its domain; the blade follows its power."""
        world = self.sim.world
        async with self.sim.transaction() as change:
            profile = self.service_profile(ref)
            target = world.get(Blade, blade)
            if profile.blade_id:
                current = world.get(Blade, profile.blade_id)
                raise Conflict(f"{profile.name} is already associated with blade {current.name}")
            other = next((p for p in world.all(ServiceProfile) if p.blade_id == target.id), None)
            if other is not None:
                raise Conflict(f"blade {target.name} already carries {other.name}")
            if target.status is HealthStatus.FAILED:
                raise Conflict(f"blade {target.name} has failed")
            blade_domain_id = domain_id_of(world, world.get(Chassis, target.chassis_id))
            if blade_domain_id != profile.domain_id:
                blade_domain = world.get(UcsDomain, blade_domain_id).name if blade_domain_id else "no UCS domain"
                profile_domain = world.get(UcsDomain, profile.domain_id).name
                raise Conflict(f"blade {target.name} is in {blade_domain}, {profile.name} in {profile_domain}")
            self._associate(profile, target, change)
            return profile

    async def disassociate_service_profile(self, ref: str) -> ServiceProfile:
        """Take a service profile off its blade, which powers off."""
        async with self.sim.transaction() as change:
            profile = self.service_profile(ref)
            if not profile.blade_id:
                raise Conflict(f"{profile.name} is not associated")
            self._disassociate(profile, change)
            return profile

    async def set_service_profile_power(self, ref: str, state: str) -> ServiceProfile:
        """Set a service profile's desired power, ``up`` or ``down``; its blade follows."""
        _check_power(state)
        async with self.sim.transaction() as change:
            profile = self.service_profile(ref)
            blade = self.sim.world.get(Blade, profile.blade_id) if profile.blade_id else None
            if blade is not None and state == "up" and blade.status is HealthStatus.FAILED:
                raise Conflict(f"blade {blade.name} of {profile.name} has failed and cannot power up")
            change.save(profile)
            if profile.power != state:
                _updated(profile, {"power": [profile.power, state]}, change)
                profile.power = state
            if blade is not None:
                set_blade_power(blade, SP_POWER[state], "api", profile.name, change)
            return profile

    async def set_service_profile_firmware_policy(self, ref: str, version: str) -> ServiceProfile:
        """Set the firmware version a service profile's blade should run (``""``: none).

        An associated blade running another version is degraded by a firmware-mismatch
        fault (``source: policy``); a policy it meets again clears that fault.
        """
        async with self.sim.transaction() as change:
            profile = self.service_profile(ref)
            change.save(profile)
            if profile.firmware_policy != version:
                _updated(profile, {"firmware_policy": [profile.firmware_policy, version]}, change)
                profile.firmware_policy = version
            if profile.blade_id:
                blade = self.sim.world.get(Blade, profile.blade_id)
                if version and version != blade.firmware:
                    if not self._firmware_faults(blade):
                        self._policy_mismatch(blade, version, change)
                else:
                    for fault in self._firmware_faults(blade, source="policy"):
                        self._clear_policy_mismatch(fault, blade, change)
            return profile

    def _associate(self, profile: ServiceProfile, blade: Blade, change: Change) -> None:
        profile.blade_id = blade.id
        data = {"id": profile.id, "name": profile.name, "blade": blade.name, "blade_id": blade.id}
        change.save(profile)
        change.event("service_profile.associated", data, profile)
        set_blade_power(blade, SP_POWER[profile.power], "associate", profile.name, change)
        policy = profile.firmware_policy
        if policy and policy != blade.firmware and not self._firmware_faults(blade):
            self._policy_mismatch(blade, policy, change)

    def _disassociate(self, profile: ServiceProfile, change: Change) -> None:
        blade = self.sim.world.get(Blade, profile.blade_id or "")
        profile.blade_id = None
        data = {"id": profile.id, "name": profile.name, "blade": blade.name, "blade_id": blade.id}
        change.save(profile)
        change.event("service_profile.disassociated", data, profile)
        # UCS powers a blade off when its profile goes.
        set_blade_power(blade, PowerState.OFF, "disassociate", profile.name, change)
        for fault in self._firmware_faults(blade, source="policy"):
            self._clear_policy_mismatch(fault, blade, change)

    def _firmware_faults(self, blade: Blade, source: str | None = None) -> list[Fault]:
        """Active firmware-mismatch faults of ``blade``; with ``source``, only those of that source."""
        return [
            fault
            for fault in self.sim.faults_touching(blade.id)
            if fault.kind == FIRMWARE_MISMATCH and (source is None or fault.params.get("source") == source)
        ]

    def _policy_mismatch(self, blade: Blade, version: str, change: Change) -> None:
        fault = new_fault(FIRMWARE_MISMATCH, {"blade": blade.name, "version": version, "source": "policy"})
        degraded = firmware_mismatch(fault, blade, version, "policy")
        change.save(blade)
        self.sim.add_fault(fault, change)
        change.events.append(degraded)

    def _clear_policy_mismatch(self, fault: Fault, blade: Blade, change: Change) -> None:
        change.events.append(restore_firmware(fault, blade))
        change.save(blade)
        self.sim.close_fault(fault, change, "policy")

    def _domain(self, ref: str | None) -> UcsDomain:
        if ref is not None:
            return self.sim.world.get(UcsDomain, ref)
        domains = self.sim.world.all(UcsDomain)
        if not domains:
            raise Conflict("the estate has no UCS domain")
        if len(domains) > 1:
            raise InvalidInput(f"give 'domain', one of {', '.join(sorted(d.name for d in domains))}")
        return domains[0]

    def _new_macs(self, seed: str, count: int) -> list[str]:
        """``count`` MACs derived from ``seed``, none of them used by another profile."""
        used = {mac for profile in self.sim.world.all(ServiceProfile) for mac in profile.macs}
        macs: list[str] = []
        index = 0
        while len(macs) < count:
            mac = self.sim.kinds.mac(PLATFORM, f"{seed}/{index}")
            index += 1
            if mac not in used:
                used.add(mac)
                macs.append(mac)
        return macs


def set_blade_power(blade: Blade, target: PowerState, reason: str, profile: str, change: Change) -> None:
    """Set a blade's power; its node follows (labels and power) when the change is committed."""
    before = blade.power_state
    blade.power_state = target
    change.save(blade)
    change.drive(blade)
    if before is not target:
        data = {"id": blade.id, "name": blade.name, "from": before.value, "to": target.value, "reason": reason,
                "service_profile": profile}  # fmt: skip
        change.event("blade.power_changed", data, blade)


def _check_power(state: str) -> None:
    if state not in SP_POWER:
        raise InvalidInput(f"unknown power state {state!r}; use up or down")


def _updated(profile: ServiceProfile, changes: dict[str, list[str]], change: Change) -> None:
    change.event("service_profile.updated", {"id": profile.id, "name": profile.name, "changes": changes}, profile)


__all__ = ["EVENT_TYPES", "SP_POWER", "ServiceProfiles", "set_blade_power"]
