"""Drift's records: policies, drift events and their states, observations, ground truth."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from dcsim.model import new_id, utcnow


class Category(enum.Enum):
    """What kind of drift a policy watches."""

    CONFIGURATION = "Configuration"
    PACKAGE = "Package"
    NETWORK = "Network"
    STATE = "State"
    SECURITY = "Security"
    FIRMWARE = "Firmware"


class DriftState(enum.Enum):
    """Lifecycle of a drift event; ``resolved`` is final (a new drift opens a new event)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SUPPRESSED = "suppressed"
    REMEDIATING = "remediating"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


#: States in which an event is still the one open event of its CI and field.
LIVE_STATES = frozenset(
    {DriftState.OPEN, DriftState.ACKNOWLEDGED, DriftState.SUPPRESSED, DriftState.REMEDIATING, DriftState.ESCALATED}
)
SEVERITIES = ("low", "medium", "high", "critical")


@attrs.define(kw_only=True)
class Window:
    """A suppression window: drift in it is recorded as suppressed."""

    start: datetime
    end: datetime


@attrs.define(kw_only=True)
class Exception_:
    """An approved exception: drift of ``ci`` (object id, CI id or name) and ``field`` is accepted."""

    ci: str
    field: str = "*"
    reason: str = ""


@attrs.define(kw_only=True)
class Policy:
    """What to watch, how bad it is and what to do about it."""

    id: str
    name: str
    ci_type: str = "*"
    tags: dict[str, str] = attrs.field(factory=dict)
    monitored_fields: list[str] = attrs.field(factory=list)
    severity: str = "medium"
    category: Category = Category.CONFIGURATION
    auto_change_request: bool = False
    auto_remediate: bool = False
    remediation: str | None = None
    notify: list[str] = attrs.field(factory=list)
    suppression_windows: list[Window] = attrs.field(factory=list)
    exceptions: list[Exception_] = attrs.field(factory=list)
    enabled: bool = True


@attrs.frozen(kw_only=True)
class Observation:
    """What a drift source saw: the desired and actual value of one field of one object.

    ``object_id`` is the simulated object's id (a CI's ``source_id``); ``kind`` its kind
    (``vm``, ``host``, ``blade``, a plugin's). ``diff`` is a unified diff for files.
    """

    object_id: str
    kind: str
    field: str
    desired: Any
    actual: Any
    name: str = ""
    diff: str | None = None
    node: str | None = None


@attrs.define(kw_only=True)
class DriftEvent:
    """One drift of one field of one CI, from detection to resolution."""

    id: str = attrs.field(factory=new_id)
    ci: str
    ci_name: str
    ci_type: str
    object_id: str
    field: str
    category: Category
    severity: str
    policy: str
    desired: Any = None
    actual: Any = None
    diff: str | None = None
    node: str | None = None
    state: DriftState = DriftState.OPEN
    detected_at: datetime = attrs.field(factory=utcnow)
    updated_at: datetime = attrs.field(factory=utcnow)
    resolved_at: datetime | None = None
    occurrences: int = 1
    correlation_id: str = ""
    remediation_run: str | None = None
    incident: str | None = None
    notes: list[str] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class TruthItem:
    """Something dc-sim injected: a fault target or an out-of-band change (the answer key)."""

    id: str = attrs.field(factory=new_id)
    object_id: str
    name: str
    kind: str
    field: str | None
    source: str
    injected_at: datetime = attrs.field(factory=utcnow)
    detail: dict[str, Any] = attrs.field(factory=dict)
