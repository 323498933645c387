"""UCS's part of the seed: domains over core's chassis, fabric interconnects, templates
and service profiles.

On the default seed, ``ucs-domain-01`` takes core's ``chassis-01`` and its servers
c01s01..c01s03, each bound to a service profile (SP-web-01, SP-app-01, SP-db-01), with
the UCS model names, and the blades' nodes named ``sim-ucs-blade-<blade>``. On a
generated estate (``dcsim seed --chassis N``) each datacenter's chassis become domain
``ucs-<NN>`` with a service profile on every other blade.
"""

from __future__ import annotations

from dcsim.sim.model import Blade, Chassis, Datacenter, GuestOs
from dcsim.sim.topology import Topology
from dcsim_ucs.model import (
    FIRMWARE,
    MAC_PREFIX,
    PLATFORM,
    FabricInterconnect,
    ServiceProfile,
    ServiceProfileTemplate,
    UcsDomain,
)

CHASSIS_MODEL, BLADE_MODEL, FI_MODEL = "UCSB-5108-AC2", "UCSB-B200-M5", "UCS-FI-6454"


def domain(
    topology: Topology, name: str, datacenter: Datacenter, chassis: list[Chassis], firmware: str = FIRMWARE
) -> UcsDomain:
    """Domain ``name`` of ``datacenter`` holding ``chassis`` (and their blades), with FIs A and B.

    The chassis and their blades get UCS's platform label and model names, and the
    blades' nodes are named ``sim-ucs-blade-<blade>``.
    """
    t = topology
    ucs = UcsDomain(id=t.id("ucs_domain", name), name=name, datacenter_id=datacenter.id, firmware=firmware,
                    chassis_ids=[c.id for c in chassis])  # fmt: skip
    t.add(ucs)
    for side in ("A", "B"):
        fi = f"{name}-{side}"
        t.add(FabricInterconnect(id=t.id("fabric_interconnect", fi), name=fi, domain_id=ucs.id, side=side,
                                 model=FI_MODEL, serial=t.serial(fi, "FDO"), primary=side == "A"))  # fmt: skip
    for box in chassis:
        box.platform, box.model = PLATFORM, CHASSIS_MODEL
        for blade in t.world.all(Blade):
            if blade.chassis_id == box.id:
                blade.model = BLADE_MODEL
                if blade.node is not None:
                    blade.node.name = f"sim-ucs-blade-{blade.name}"
    return ucs


def template(topology: Topology, ucs: UcsDomain, key: str, name: str, guest: GuestOs) -> ServiceProfileTemplate:
    """A service profile template of ``ucs`` (its id derived from ``key``)."""
    t = topology
    return t.add(  # type: ignore[no-any-return]
        ServiceProfileTemplate(id=t.id("service_profile_template", key), name=name, domain_id=ucs.id, guest_os=guest,
                               firmware=FIRMWARE)
    )  # fmt: skip


def profile(topology: Topology, ucs: UcsDomain, name: str, tmpl: ServiceProfileTemplate, blade: Blade) -> None:
    """A service profile from ``tmpl`` associated with ``blade``, two MACs from the UCS pool."""
    t = topology
    t.add(
        ServiceProfile(
            id=t.id("service_profile", name), name=name, domain_id=ucs.id, template_id=tmpl.id, blade_id=blade.id,
            firmware_policy=FIRMWARE, macs=[t.mac(MAC_PREFIX, name, 0), t.mac(MAC_PREFIX, name, 1)],
        )
    )  # fmt: skip


def seed_default(topology: Topology) -> None:
    """ucs-domain-01 over the seed's chassis-01, as the seed spec has it."""
    world = topology.world
    chassis = world.find(Chassis, "chassis-01")
    if chassis is None:
        return
    west = world.get(Datacenter, chassis.datacenter_id)
    ucs = domain(topology, "ucs-domain-01", west, [chassis])
    rhel, ubuntu = GuestOs.RHEL9, GuestOs.UBUNTU22
    templates = {
        rhel: template(topology, ucs, "SP-Template-RHEL9", "SP-Template-RHEL9", rhel),
        ubuntu: template(topology, ucs, "SP-Template-Ubuntu", "SP-Template-Ubuntu", ubuntu),
    }
    for slot, (name, guest) in enumerate([("SP-web-01", rhel), ("SP-app-01", ubuntu), ("SP-db-01", rhel)], start=1):
        profile(topology, ucs, name, templates[guest], world.get(Blade, f"c01s0{slot}"))


def seed_generated(topology: Topology) -> None:
    """A domain per datacenter over its chassis; a profile on every other blade."""
    world = topology.world
    for number, dc in enumerate(world.all(Datacenter), start=1):
        chassis = sorted((c for c in world.all(Chassis) if c.datacenter_id == dc.id), key=lambda c: c.number)
        if not chassis:
            continue
        name = f"ucs-{number:02d}"
        ucs = domain(topology, name, dc, chassis)
        templates = [template(topology, ucs, f"{name}-{g.value}", f"{name}-tmpl-{g.value}", g) for g in GuestOs]
        for box in chassis:
            for blade in sorted((b for b in world.all(Blade) if b.chassis_id == box.id), key=lambda b: b.slot):
                if blade.slot % 2:
                    profile(topology, ucs, f"{name}-sp-c{box.number:02d}s{blade.slot:02d}",
                            templates[blade.slot % len(templates)], blade)  # fmt: skip


__all__ = ["domain", "seed_default", "seed_generated"]
