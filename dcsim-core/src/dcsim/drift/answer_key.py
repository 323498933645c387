"""The answer key: what dc-sim injected, and detections scored against it.

Every fault injected (``fault.injected``: one item per target) and every out-of-band
change dc-sim makes for a drill (a file edited inside a node, a node's power changed
behind the CMDB's back) is recorded as ground truth. ``score`` matches drift events to
it: a detection is true when an item of the same object (and field, when the item names
one) was injected before it.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

from dcsim.convert import to_json
from dcsim.drift.model import DriftEvent, TruthItem
from dcsim.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from dcsim.drift.service import DriftService
    from dcsim.model import Event

NAMESPACE = "drift"


async def record(drift: DriftService, item: TruthItem) -> TruthItem:
    """Add ``item`` to the ground truth."""
    drift.truth.append(item)
    await asyncio.to_thread(drift.dcsim.store.put, NAMESPACE, f"truth/{item.id}", to_json(item))
    return item


async def record_fault(drift: DriftService, event: Event) -> None:
    """A ``fault.injected``: one ground-truth item per target (health of that object)."""
    fault = event.data.get("fault") or {}
    for target in fault.get("targets", []):
        item = TruthItem(object_id=str(target["id"]), name=str(target.get("name", "")), kind=str(target["kind"]),
                         field=None, source=f"fault:{fault.get('kind')}", injected_at=event.time,
                         detail={"fault_id": fault.get("id")})  # fmt: skip
        await record(drift, item)


async def change_out_of_band(drift: DriftService, change: dict[str, Any]) -> TruthItem:
    """Make one out-of-band change and record it (stamped with the time before it was made).

    ``{"kind": "file", "node", "path", "content"}`` writes a file inside a node;
    ``{"kind": "power", "node", "state"}`` changes a node's power as if someone pressed the
    button (the CMDB is not told); ``{"kind": "network", "node", "network"}`` moves the
    node's VM's first NIC to another network behind the CMDB's back.
    """
    from dcsim.sim.model import PowerState

    sim = drift.dcsim.sim
    node = str(change.get("node", ""))
    owner = sim.owner_of(node)
    if owner is None:
        raise NotFound(f"no node {node!r}")
    kind = sim.world.kind_of(owner)
    if change.get("kind") == "file":
        path, content = change.get("path"), change.get("content")
        if not path or content is None:
            raise InvalidInput("a file change needs 'path' and 'content'")
        item = TruthItem(object_id=owner.id, name=owner.name, kind=kind, field=str(path), source="out-of-band:file",
                         detail={"node": node})  # fmt: skip
        try:
            await sim.nodes.write_file(node, str(path), str(content))
        except OSError as exc:
            raise InvalidInput(f"cannot write {path} in {node}: {exc.strerror}") from exc
        return await record(drift, item)
    if change.get("kind") == "power":
        try:
            state = PowerState(str(change.get("state")))
        except ValueError:
            raise InvalidInput(f"power state is one of {', '.join(s.value for s in PowerState)}") from None
        item = TruthItem(object_id=owner.id, name=owner.name, kind=kind, field="power_state",
                         source="out-of-band:power", detail={"node": node, "state": state.value})  # fmt: skip
        await sim.node_power_observed(node, state)
        return await record(drift, item)
    if change.get("kind") == "network":
        return await _move_network(drift, owner, str(change.get("network") or ""))
    raise InvalidInput("an out-of-band change is of kind 'file', 'power' or 'network'")


async def _move_network(drift: DriftService, vm: Any, network_ref: str) -> TruthItem:
    """Move ``vm``'s first NIC to another network, as someone with the hypervisor's console would."""
    from dcsim.sim.model import Network

    sim = drift.dcsim.sim
    nics = getattr(vm, "nics", None)
    if not nics:
        raise InvalidInput(f"{vm.name} has no NIC")
    network = sim.world.get(Network, network_ref)
    if nics[0].network_id == network.id:
        raise InvalidInput(f"{vm.name}'s first NIC is on {network.name} already")
    item = TruthItem(object_id=vm.id, name=vm.name, kind=sim.world.kind_of(vm), field="networks",
                     source="out-of-band:network", detail={"network": network.name})  # fmt: skip
    async with sim.transaction() as world_change:
        before = sorted({nic.network_id for nic in nics})
        nics[0].network_id = network.id
        after = sorted({nic.network_id for nic in nics})
        world_change.save(vm)
        data = {"id": vm.id, "name": vm.name, "changes": {"networks": [before, after]}, "reason": "external"}
        world_change.event("vm.reconfigured", data, vm)
    return await record(drift, item)


def _matches(item: TruthItem, event: DriftEvent) -> bool:
    same_field = item.field is None or item.field == event.field
    return item.object_id == event.object_id and same_field and event.detected_at >= item.injected_at


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def score(truth: list[TruthItem], events: list[DriftEvent]) -> dict[str, Any]:
    """Precision, recall, times to detect and remediate, and the items missed."""
    detected: list[tuple[TruthItem, DriftEvent]] = []
    missed = []
    for item in truth:
        hits = sorted((e for e in events if _matches(item, e)), key=lambda e: e.detected_at)
        if hits:
            detected.append((item, hits[0]))
        else:
            missed.append(item)
    true_events = [e for e in events if any(_matches(item, e) for item in truth)]
    false_events = [e for e in events if e not in true_events]
    detect = [(e.detected_at - item.injected_at).total_seconds() for item, e in detected]
    remediate = [
        (e.resolved_at - item.injected_at).total_seconds() for item, e in detected if e.resolved_at is not None
    ]
    return {
        "injected": len(truth),
        "detected": len(detected),
        "detections": len(events),
        "true_positives": len(true_events),
        "false_positives": [to_json(e) for e in false_events],
        "precision": (len(true_events) / len(events)) if events else 1.0,
        "recall": (len(detected) / len(truth)) if truth else 1.0,
        "mean_time_to_detect": (sum(detect) / len(detect)) if detect else None,
        "p95_time_to_detect": _p95(detect),
        "mean_time_to_remediate": (sum(remediate) / len(remediate)) if remediate else None,
        "detection_times": detect,
        "missed": [to_json(item) for item in missed],
    }
