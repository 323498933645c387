"""Core's drift sources: watched files, power state, health, package sets, network membership.

Each is event-driven: it turns one bus event into observations. Desired values come
from the drift service's desired-state record (seeded from the CMDB's view at an
authorised change; a file's known-good version captured at its first change or when a
change completes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from dcsim.drift.model import Observation
from dcsim.drift.policies import WATCHED_FILES
from dcsim.drift.textdiff import reverse_apply
from dcsim.errors import DcsimError

if TYPE_CHECKING:
    from dcsim.drift.model import DriftEvent
    from dcsim.drift.registry import DriftSourceRegistry
    from dcsim.drift.service import DriftService
    from dcsim.model import Event

log = structlog.get_logger(__name__)

#: Power changes made behind dc-sim's (and so the CMDB's) back carry this reason.
EXTERNAL = "external"


async def _read(drift: DriftService, node: str, path: str) -> str | None:
    try:
        return await drift.dcsim.sim.nodes.read_file(node, path)
    except DcsimError:
        return None


# Files -------------------------------------------------------------------------------


async def observe_file(drift: DriftService, event: Event) -> list[Observation]:
    """``node.file_changed`` of a watched file: its text against the known-good version."""
    data = event.data
    path, node, owner = str(data.get("path", "")), str(data.get("node", "")), data.get("owner")
    if path not in WATCHED_FILES or not owner:
        return []
    kind, _, object_id = str(owner).partition("/")
    actual = await _read(drift, node, path)
    desired = await drift.desired(object_id, path)
    if desired is None:
        try:
            desired = reverse_apply(str(data.get("diff", "")), actual)
        except (ValueError, IndexError):
            log.warning("drift.diff_unusable", node=node, path=path)
            return []
        await drift.remember(object_id, path, desired)
    return [Observation(object_id=object_id, kind=kind, field=path, desired=desired, actual=actual,
                        name=node, diff=str(data.get("diff", "")), node=node)]  # fmt: skip


async def sweep_files(drift: DriftService) -> list[Observation]:
    """Every file with a known-good version, read again."""
    found = []
    for object_id, field, desired in await drift.desired_values():
        if field not in WATCHED_FILES:
            continue
        owner = drift.world_object(object_id)
        node = getattr(getattr(owner, "node", None), "name", None)
        if owner is None or node is None:
            continue
        actual = await _read(drift, node, field)
        found.append(Observation(object_id=object_id, kind=drift.kind_of(owner), field=field, desired=desired,
                                 actual=actual, name=node, node=node))  # fmt: skip
    return found


async def recheck_file(drift: DriftService, event: DriftEvent) -> Observation | None:
    """The file of ``event`` read again."""
    if event.node is None:
        return None
    desired = await drift.desired(event.object_id, event.field)
    actual = await _read(drift, event.node, event.field)
    return Observation(object_id=event.object_id, kind=event.ci_type, field=event.field, desired=desired,
                       actual=actual, name=event.node, node=event.node)  # fmt: skip


# Power -------------------------------------------------------------------------------


async def observe_power(drift: DriftService, event: Event) -> list[Observation]:
    """``*.power_changed``: an external change is drift from the last authorised state."""
    data = event.data
    object_id, kind = str(data.get("id", "")), (event.subject or "").partition("/")[0]
    if not object_id:
        return []
    if data.get("reason") != EXTERNAL:
        # Made through dc-sim: the CMDB follows it, so it is the new desired state.
        await drift.remember(object_id, "power_state", data.get("to"))
        return [Observation(object_id=object_id, kind=kind, field="power_state", desired=data.get("to"),
                            actual=data.get("to"), name=str(data.get("name", "")))]  # fmt: skip
    desired = await drift.desired(object_id, "power_state")
    if desired is None:
        desired = data.get("from")
        await drift.remember(object_id, "power_state", desired)
    return [Observation(object_id=object_id, kind=kind, field="power_state", desired=desired,
                        actual=data.get("to"), name=str(data.get("name", "")))]  # fmt: skip


async def sweep_power(drift: DriftService) -> list[Observation]:
    """Every object with a desired power state against the world's."""
    found = []
    for object_id, field, desired in await drift.desired_values():
        owner = drift.world_object(object_id) if field == "power_state" else None
        if owner is None or getattr(owner, "power_state", None) is None:
            continue
        found.append(Observation(object_id=object_id, kind=drift.kind_of(owner), field=field, desired=desired,
                                 actual=owner.power_state.value, name=owner.name))  # fmt: skip
    return found


# Health (injected faults) --------------------------------------------------------------


async def observe_health(drift: DriftService, event: Event) -> list[Observation]:
    """``host.degraded`` / ``host.recovered`` of any kind, ``network.changed``: health against ``ok``."""
    data = event.data
    object_id, kind = str(data.get("id", "")), str(data.get("kind", ""))
    if not object_id:
        return []
    if event.type == "network.changed":
        actual = "ok" if data.get("change") == "healed" else str(data.get("change", "changed"))
    elif event.type == "host.recovered":
        actual = "ok"
    else:
        actual = str(data.get("status", "degraded"))
    return [Observation(object_id=object_id, kind=kind, field="health", desired="ok", actual=actual,
                        name=str(data.get("name", "")))]  # fmt: skip


# Packages (collected facts) -------------------------------------------------------------


def _package_names(facts: Any) -> set[str] | None:
    packages = facts.get("packages") if isinstance(facts, dict) else None
    if isinstance(packages, dict):
        return {str(name) for name in packages}
    if isinstance(packages, list):
        return {str(p.get("name") if isinstance(p, dict) else p) for p in packages}
    return None


async def observe_packages(drift: DriftService, event: Event) -> list[Observation]:
    """``ansible.facts_collected``: the package set against the first one collected (desired)."""
    ci_id = str(event.data.get("ci_id", ""))
    names = _package_names(event.data.get("facts"))
    ci = await drift.ci(ci_id) if ci_id else None
    if names is None or ci is None or not ci.source_id:
        return []
    desired = await drift.desired(ci.source_id, "packages")
    if desired is None:
        await drift.remember(ci.source_id, "packages", sorted(names))
        desired = sorted(names)
    observations = []
    for name in sorted(set(desired) | names):
        want = "installed" if name in desired else "absent"
        have = "installed" if name in names else "absent"
        observations.append(Observation(object_id=ci.source_id, kind=ci.type, field=f"packages.{name}",
                                        desired=want, actual=have, name=ci.name))  # fmt: skip
    return observations


# Network membership --------------------------------------------------------------------


async def observe_network(drift: DriftService, event: Event) -> list[Observation]:
    """``vm.reconfigured``: the networks a VM is on against the last authorised set."""
    object_id = str(event.data.get("id") or (event.subject or "").partition("/")[2])
    owner = drift.world_object(object_id) if object_id else None
    nics = getattr(owner, "nics", None)
    if owner is None or nics is None:
        return []
    actual = sorted({str(nic.network_id) for nic in nics})
    desired = await drift.desired(object_id, "networks")
    if event.data.get("reason") != EXTERNAL:
        await drift.remember(object_id, "networks", actual)
        desired = actual
    elif desired is None:
        changed = (event.data.get("changes") or {}).get("networks") or [actual]
        desired = sorted(changed[0])
        await drift.remember(object_id, "networks", desired)
    return [Observation(object_id=object_id, kind=drift.kind_of(owner), field="networks", desired=desired,
                        actual=actual, name=owner.name)]  # fmt: skip


def register_core_sources(registry: DriftSourceRegistry) -> None:
    """Core's sources (registered by core's ``dcsim_drift_register_sources``)."""
    registry.add("files", ("node.file_changed",), observe_file, fields=WATCHED_FILES, sweep=sweep_files,
                 recheck=recheck_file)  # fmt: skip
    registry.add("power", ("*.power_changed",), observe_power, fields=("power_state",), sweep=sweep_power)
    registry.add("health", ("host.degraded", "host.recovered", "network.changed"), observe_health, fields=("health",))
    registry.add("packages", ("ansible.facts_collected",), observe_packages, fields=("packages.*",))
    registry.add("network", ("vm.reconfigured",), observe_network, fields=("networks",))
