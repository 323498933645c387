"""The simulation's event catalogue, and the change an engine action commits.

Vendor packages declare their own event types through ``dcsim_register_event_types``;
the ones here are core's.
"""

from __future__ import annotations

from typing import Any

import attrs

from dcsim.sim.faults import Fault
from dcsim.sim.model import PowerState

#: Event types the engine publishes, with what their data holds.
EVENT_TYPES: dict[str, tuple[str, dict[str, str]]] = {
    "vm.created": ("a VM or instance was created", {"vm": "the VM as GET /sim/vms/{id} shows it"}),
    "vm.destroyed": ("a VM or instance was destroyed", {"vm": "the VM as it was"}),
    "vm.power_changed": (
        "a VM's power state changed",
        {"id": "VM id", "name": "VM name", "from": "previous state", "to": "new state", "reason": "why"},
    ),
    "vm.migrated": (
        "a VM moved to another host",
        {"id": "VM id", "name": "VM name", "from_host": "host name", "to_host": "host name", "reason": "why"},
    ),
    "vm.reconfigured": (
        "a VM's CPU, memory, snapshots or load profile changed",
        {"id": "VM id", "name": "VM name", "changes": "field -> [before, after]"},
    ),
    "host.degraded": (
        "a host, a physical server or another piece of equipment left the ok state",
        {
            "kind": "host | blade | a plugin's kind",
            "id": "id",
            "name": "name",
            "status": "new status",
            "reason": "why",
            "fault_id": "the fault, when injected",
        },
    ),
    "host.recovered": (
        "a host, a physical server or another piece of equipment is ok again",
        {"kind": "host | blade | a plugin's kind", "id": "id", "name": "name", "fault_id": "the fault cleared"},
    ),
    "network.changed": (
        "a network was partitioned or healed, or a plugin's network equipment changed",
        {
            "kind": "network | a plugin's kind",
            "id": "id",
            "name": "name",
            "change": "what changed",
            "fault_id": "fault",
        },
    ),
    "blade.power_changed": (
        "a physical server's power state changed",
        {
            "id": "server id",
            "name": "server name",
            "from": "previous state",
            "to": "new state",
            "reason": "external, or the reason of the plugin that changed it",
            "...": "fields a plugin's power context adds (NodeLabelRegistry.add_power_context)",
        },
    ),
    "fault.injected": ("a fault was injected", {"fault": "the fault record (GET /sim/inject)"}),
    "fault.cleared": ("a fault was cleared or expired", {"fault": "the fault record, with cleared_at"}),
    "node.file_changed": (
        "a file under /etc changed inside a node",
        {
            "node": "node name",
            "path": "path inside the node",
            "diff": "unified diff",
            "owner": "kind/id of the VM or physical server",
        },
    ),
}

#: An event to publish once a change is saved: (type, data, subject object).
PendingEvent = tuple[str, dict[str, Any], Any]


@attrs.define
class Change:
    """What one engine action changed, committed by ``Simulation.commit`` in this order:
    objects saved (and removed) with the fault records in one store transaction, then
    the nodes driven in the order asked, then the events published in order."""

    objects: list[Any] = attrs.field(factory=list)
    removed: list[Any] = attrs.field(factory=list)
    faults: list[Fault] = attrs.field(factory=list)
    #: ("drive", owner): the node follows the owner's labels and power;
    #: ("power", node name, PowerState): one power step of a node.
    node_steps: list[tuple[Any, ...]] = attrs.field(factory=list)
    events: list[PendingEvent] = attrs.field(factory=list)

    def save(self, *objects: Any) -> None:
        """Save ``objects`` (changed or new) when the change is committed."""
        self.objects.extend(objects)

    def remove(self, obj: Any) -> None:
        """Delete ``obj`` from the store (it is already out of the world)."""
        self.objects = [o for o in self.objects if o is not obj]
        self.removed.append(obj)

    def event(self, event_type: str, data: dict[str, Any], subject: Any) -> None:
        """Publish ``event_type`` about ``subject`` (a world object or a fault) after saving."""
        self.events.append((event_type, data, subject))

    def drive(self, owner: Any) -> None:
        """Make the node of ``owner`` (if it has one) follow its labels and power state."""
        self.node_steps.append(("drive", owner))

    def power(self, node: str, state: PowerState) -> None:
        """Power node ``node`` to ``state`` (steps run in the order asked)."""
        self.node_steps.append(("power", node, state))


def degraded(kind: str, obj: Any, reason: str, fault: Fault) -> PendingEvent:
    """``host.degraded`` for ``obj`` (with ``status``) broken by ``fault``."""
    data = {"kind": kind, "id": obj.id, "name": obj.name, "status": obj.status.value, "reason": reason,
            "fault_id": fault.id}  # fmt: skip
    return ("host.degraded", data, obj)


def recovered(kind: str, obj: Any, fault: Fault) -> PendingEvent:
    """``host.recovered`` for ``obj`` once ``fault`` is cleared."""
    return ("host.recovered", {"kind": kind, "id": obj.id, "name": obj.name, "fault_id": fault.id}, obj)


def changed(kind: str, obj: Any, change: str, fault: Fault) -> PendingEvent:
    """``network.changed`` for ``obj``: ``change`` says what, ``fault`` why."""
    data = {"kind": kind, "id": obj.id, "name": obj.name, "change": change, "fault_id": fault.id}
    return ("network.changed", data, obj)


__all__ = ["EVENT_TYPES", "Change", "PendingEvent", "changed", "degraded", "recovered"]
