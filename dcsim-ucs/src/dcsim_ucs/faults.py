"""UCS's fault kinds: ``firmware-mismatch`` (a blade runs firmware its policy does not
say) and ``fabric-failover`` (a fabric interconnect fails; the other takes over)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.errors import Conflict, InvalidInput
from dcsim.sim.events import Change, PendingEvent, changed, degraded, recovered
from dcsim.sim.faults import Fault, FaultRegistry, Target, required
from dcsim.sim.model import Blade, HealthStatus
from dcsim_ucs.model import FabricInterconnect, UcsDomain

if TYPE_CHECKING:
    from dcsim.sim.engine import Simulation

FIRMWARE_MISMATCH, FABRIC_FAILOVER = "firmware-mismatch", "fabric-failover"


def firmware_mismatch(fault: Fault, blade: Blade, version: str, source: str | None) -> PendingEvent:
    """Degrade ``blade``: it runs ``version`` (no source), or its policy says ``version`` (``policy``)."""
    fault.targets.append(Target("blade", blade.id, blade.name))
    fault.restore["firmware"] = blade.firmware
    if source == "policy":
        fault.effects.append(f"blade {blade.name} runs firmware {blade.firmware}, its policy says {version}")
        reason = f"firmware {blade.firmware} differs from the service profile's policy {version}"
    else:
        blade.firmware = version
        fault.effects.append(f"blade {blade.name} runs firmware {version}")
        reason = f"firmware {version} differs from the service profile's policy"
    if blade.status is not HealthStatus.FAILED:
        blade.status = HealthStatus.DEGRADED
    return degraded("blade", blade, reason, fault)


def restore_firmware(fault: Fault, blade: Blade) -> PendingEvent:
    """Put back the firmware ``fault`` changed; the blade is ok again unless it failed."""
    blade.firmware = fault.restore["firmware"]
    if blade.status is HealthStatus.DEGRADED:
        blade.status = HealthStatus.OK
    return recovered("blade", blade, fault)


def _inject_firmware_mismatch(sim: Simulation, fault: Fault, params: dict[str, Any], change: Change) -> None:
    blade = sim.world.get(Blade, required(params, "blade"))
    version = str(params.get("version") or "4.1(3b)")
    source = params.get("source")
    if source not in (None, "policy"):
        raise InvalidInput("'source' is 'policy' or absent")
    if version == blade.firmware:
        raise InvalidInput(f"blade {blade.name} already runs {version}")
    change.events.append(firmware_mismatch(fault, blade, version, source))
    change.save(blade)


def _undo_firmware_mismatch(sim: Simulation, fault: Fault, change: Change) -> None:
    for target in fault.targets:
        blade = sim.world.get(Blade, target.id)
        change.events.append(restore_firmware(fault, blade))
        change.save(blade)


def _inject_fabric_failover(sim: Simulation, fault: Fault, params: dict[str, Any], change: Change) -> None:
    domain = sim.world.get(UcsDomain, required(params, "domain"))
    fis = [fi for fi in sim.world.all(FabricInterconnect) if fi.domain_id == domain.id]
    side = params.get("side")
    failing = next((fi for fi in fis if (fi.side == side if side else fi.primary)), None)
    if failing is None:
        raise InvalidInput(f"domain {domain.name} has no fabric interconnect {side!r}")
    if failing.status is HealthStatus.FAILED:
        raise Conflict(f"{failing.name} has already failed")
    fault.targets += [
        Target("ucs_domain", domain.id, domain.name),
        Target("fabric_interconnect", failing.id, failing.name),
    ]
    failing.status = HealthStatus.FAILED
    change.events.append(degraded("fabric_interconnect", failing, "fabric interconnect down", fault))
    if failing.primary:
        survivor = next(fi for fi in fis if fi is not failing)
        failing.primary, survivor.primary = False, True
        fault.effects.append(f"{survivor.name} took over as primary")
        change.events.append(changed("ucs_domain", domain, f"failover to fabric {survivor.side}", fault))
    fault.effects.append(f"{failing.name} failed")
    change.save(*fis)


def _undo_fabric_failover(sim: Simulation, fault: Fault, change: Change) -> None:
    for target in fault.targets:
        if target.kind == "fabric_interconnect":
            fi = sim.world.get(FabricInterconnect, target.id)
            fi.status = HealthStatus.OK  # the survivor stays primary, as on real UCS
            change.save(fi)
            change.events.append(recovered("fabric_interconnect", fi, fault))


def register_faults(registry: FaultRegistry) -> None:
    """Add UCS's fault kinds to ``registry``."""
    registry.add(
        FIRMWARE_MISMATCH,
        description="a blade runs other firmware than its service profile's policy; it is degraded",
        params={
            "blade": "blade name or id",
            "version": "the firmware it runs (default 4.1(3b))",
            "source": "'policy': the policy changed, not the blade (set by the engine)",
        },
        inject=_inject_firmware_mismatch,
        undo=_undo_firmware_mismatch,
    )
    registry.add(
        FABRIC_FAILOVER,
        description="a fabric interconnect fails; if it was primary the other takes over",
        params={"domain": "UCS domain name or id", "side": "A or B (default: the primary)"},
        inject=_inject_fabric_failover,
        undo=_undo_fabric_failover,
    )


__all__ = ["FABRIC_FAILOVER", "FIRMWARE_MISMATCH", "firmware_mismatch", "register_faults", "restore_firmware"]
