"""UCS Manager's own kinds of simulated objects, registered with core's world.

A domain takes core's chassis (``chassis_ids``) and so their physical servers (blades)
into UCS: fabric interconnects, service profile templates and service profiles belong
to it. A service profile names the blade it is associated with (``blade_id``); a blade
carries at most one profile.
"""

from __future__ import annotations

import re

import attrs

from dcsim.errors import InvalidInput
from dcsim.sim.model import Blade, Chassis, GuestOs, HealthStatus
from dcsim.sim.world import World

#: The platform label of chassis and blades a UCS domain holds.
PLATFORM = "ucs"
#: Cisco's UCS pool OUI: the MAC prefix of service profiles' NICs.
MAC_PREFIX = "00:25:b5"
#: The firmware of the seed's domain and blades.
FIRMWARE = "4.2(3d)"
#: UCS Manager's rule for service profile names.
PROFILE_NAME = re.compile(r"[A-Za-z0-9_.:-]{2,32}")


def check_profile_name(name: str) -> None:
    """InvalidInput unless ``name`` is a valid service profile name (the one place the rule lives)."""
    if not PROFILE_NAME.fullmatch(name):
        raise InvalidInput(f"{name!r} is not a service profile name: 2-32 of letters, digits and _ . : -")


@attrs.define(kw_only=True)
class UcsDomain:
    """A UCS Manager domain: a pair of fabric interconnects and the chassis they manage."""

    id: str
    name: str
    datacenter_id: str
    firmware: str
    chassis_ids: list[str] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class FabricInterconnect:
    """Fabric interconnect A or B of a domain; one of them is the primary."""

    id: str
    name: str
    domain_id: str
    side: str
    model: str
    serial: str
    primary: bool
    status: HealthStatus = HealthStatus.OK


@attrs.define(kw_only=True)
class ServiceProfileTemplate:
    """A UCS service profile template."""

    id: str
    name: str
    domain_id: str
    guest_os: GuestOs
    firmware: str
    org: str = "org-root"


@attrs.define(kw_only=True)
class ServiceProfile:
    """A UCS service profile: a blade's identity (MACs, boot, firmware policy).

    ``power`` is the desired power (``up`` or ``down``) the associated blade follows;
    ``firmware_policy`` is the firmware version the blade should run.
    """

    id: str
    name: str
    domain_id: str
    template_id: str | None
    org: str = "org-root"
    blade_id: str | None = None
    power: str = "up"
    firmware_policy: str = ""
    macs: list[str] = attrs.field(factory=list)
    description: str = ""


#: UCS kinds by the names core's world, store, API and events use.
KINDS: dict[str, type] = {
    "ucs_domain": UcsDomain,
    "fabric_interconnect": FabricInterconnect,
    "service_profile_template": ServiceProfileTemplate,
    "service_profile": ServiceProfile,
}


def domain_of(world: World, chassis: Chassis) -> UcsDomain | None:
    """The domain that holds ``chassis``, if any."""
    return next((d for d in world.all(UcsDomain) if chassis.id in d.chassis_ids), None)


def domain_id_of(world: World, chassis: Chassis) -> str | None:
    """The id of the domain that holds ``chassis``, if any."""
    domain = domain_of(world, chassis)
    return domain.id if domain else None


def profile_of(world: World, blade: Blade) -> ServiceProfile | None:
    """The service profile associated with ``blade``, if any."""
    return next((p for p in world.all(ServiceProfile) if p.blade_id == blade.id), None)


__all__ = [
    "FIRMWARE",
    "KINDS",
    "MAC_PREFIX",
    "PLATFORM",
    "FabricInterconnect",
    "ServiceProfile",
    "ServiceProfileTemplate",
    "UcsDomain",
    "check_profile_name",
    "domain_id_of",
    "domain_of",
    "profile_of",
]
