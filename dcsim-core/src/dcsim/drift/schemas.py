"""The ``/drift`` API's request and response models (SPEC-010: strict input, typed output)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from dcsim.web.contracts import Model

Severity = Literal["low", "medium", "high", "critical"]
CategoryName = Literal["Configuration", "Package", "Network", "State", "Security", "Firmware"]
StateName = Literal["open", "acknowledged", "suppressed", "remediating", "resolved", "escalated"]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
PolicyId = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
NodePath = Annotated[
    str,
    msgspec.Meta(
        min_length=2, max_length=200, pattern=r"^(/[A-Za-z0-9._-]+)+$", description="absolute path in the node"
    ),
]


class DriftEventOut(msgspec.Struct, kw_only=True):
    """A drift event: one field of one CI from detection to resolution."""

    id: str
    ci: str
    ci_name: str
    ci_type: str
    object_id: str
    field: str
    category: CategoryName
    severity: Severity
    policy: str
    desired: Any
    actual: Any
    diff: str | None
    node: str | None
    state: StateName
    detected_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    occurrences: int
    correlation_id: str
    remediation_run: str | None
    incident: str | None
    notes: list[str]


AwareTime = Annotated[datetime, msgspec.Meta(tz=True, description="date-time with a time zone")]


class WindowIn(Model):
    """A suppression window."""

    start: AwareTime
    end: AwareTime


class ExceptionIn(Model):
    """An approved exception: drift of this CI (and field glob) is accepted."""

    ci: Short
    field: Short = "*"
    reason: Text = ""


class PolicyIn(Model):
    """A drift policy as created or replaced."""

    id: PolicyId
    name: Short
    monitored_fields: Annotated[list[Short], msgspec.Meta(min_length=1, max_length=100)]
    ci_type: Short = "*"
    tags: dict[Annotated[str, msgspec.Meta(max_length=64)], Annotated[str, msgspec.Meta(max_length=128)]] = {}
    severity: Severity = "medium"
    category: CategoryName = "Configuration"
    auto_change_request: bool = False
    auto_remediate: bool = False
    remediation: Short | None = None
    notify: list[Short] = []
    suppression_windows: list[WindowIn] = []
    exceptions: list[ExceptionIn] = []
    enabled: bool = True


class WindowOut(msgspec.Struct, kw_only=True):
    start: datetime
    end: datetime


class ExceptionOut(msgspec.Struct, kw_only=True):
    ci: str
    field: str
    reason: str


class PolicyOut(msgspec.Struct, kw_only=True):
    """A drift policy."""

    id: str
    name: str
    ci_type: str
    tags: dict[str, str]
    monitored_fields: list[str]
    severity: Severity
    category: CategoryName
    auto_change_request: bool
    auto_remediate: bool
    remediation: str | None
    notify: list[str]
    suppression_windows: list[WindowOut]
    exceptions: list[ExceptionOut]
    enabled: bool


class NoteIn(Model):
    """An optional note with an action."""

    note: Text = ""


class OutOfBandChange(Model):
    """A change dc-sim makes behind the CMDB's back, recorded in the answer key.

    ``file``: ``node``, ``path``, ``content``; ``power``: ``node``, ``state`` (on, off,
    suspended); ``network``: ``node``, ``network`` (its VM's first NIC moves there).
    """

    kind: Literal["file", "power", "network"]
    node: Short
    path: NodePath | None = None
    content: Annotated[str, msgspec.Meta(max_length=200_000)] | None = None
    state: Literal["on", "off", "suspended"] | None = None
    network: Short | None = None


class TruthOut(msgspec.Struct, kw_only=True):
    """A ground-truth item: something dc-sim injected."""

    id: str
    object_id: str
    name: str
    kind: str
    field: str | None
    source: str
    injected_at: datetime
    detail: dict[str, Any]


class ReconcileOut(msgspec.Struct, kw_only=True):
    """What a reconcile sweep saw."""

    observed: int
    open_before: int
    open_after: int


class Score(msgspec.Struct, kw_only=True):
    """Detections scored against the answer key (times in seconds)."""

    injected: int
    detected: int
    detections: int
    true_positives: int
    false_positives: list[DriftEventOut]
    precision: float
    recall: float
    mean_time_to_detect: float | None
    p95_time_to_detect: float | None
    mean_time_to_remediate: float | None
    detection_times: list[float]
    missed: list[TruthOut]


class Report(msgspec.Struct, kw_only=True):
    """Live drift events counted by category, severity and CI type, and all by state."""

    open: int
    by_category: dict[str, int]
    by_severity: dict[str, int]
    by_ci_type: dict[str, int]
    by_state: dict[str, int]


class TimelinePoint(msgspec.Struct, kw_only=True):
    """Drift detected and resolved in one hour."""

    hour: datetime
    detected: int
    resolved: int
