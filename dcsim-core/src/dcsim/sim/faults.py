"""Injected faults: what was broken, when, which objects, and what it changed.

Every fault is kept after it is cleared, so that detection (drift, alerts, incidents)
can later be scored against what was really injected.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs


class FaultKind(enum.Enum):
    """The faults the simulation can inject (``POST /sim/inject/<kind>``)."""

    HOST_FAILURE = "host-failure"
    NETWORK_PARTITION = "network-partition"
    DISK_FULL = "disk-full"
    FIRMWARE_MISMATCH = "firmware-mismatch"
    FABRIC_FAILOVER = "fabric-failover"


@attrs.frozen
class Target:
    """An object a fault touched."""

    kind: str
    id: str
    name: str


@attrs.define(kw_only=True)
class Fault:
    """One injected fault and its record."""

    id: str
    kind: FaultKind
    targets: list[Target]
    params: dict[str, Any]
    injected_at: datetime
    expires_at: datetime | None = None
    cleared_at: datetime | None = None
    cleared_by: str | None = None
    #: What the fault did, in order: one line per state change, for scoring and audits.
    effects: list[str] = attrs.field(factory=list)
    #: Values to put back when the fault is cleared (kind-specific).
    restore: dict[str, Any] = attrs.field(factory=dict)

    @property
    def active(self) -> bool:
        """True until the fault is cleared."""
        return self.cleared_at is None

    def touches(self, object_id: str) -> bool:
        """True when ``object_id`` is one of the fault's targets."""
        return any(target.id == object_id for target in self.targets)
