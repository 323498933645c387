"""Incidents, problems and changes: the ITSM records, and the requests that make and move them.

A record's ``number`` (``INC0001001``, ``PRB0001001``, ``CHG0001001``) is its id. Every
record keeps its notes and its history inline, so one document write changes a record
and records why, and reading a record shows both.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import attrs

PRIORITIES = ("P1", "P2", "P3", "P4")


class IncidentState(enum.Enum):
    """Where an incident is in its workflow (transitions in :mod:`dcsim.itsm.workflow`)."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ProblemState(enum.Enum):
    """Where a problem is in its workflow."""

    INVESTIGATING = "investigating"
    KNOWN_ERROR = "known_error"
    RESOLVED = "resolved"


class ChangeState(enum.Enum):
    """Where a change is in its workflow."""

    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ChangeType(enum.Enum):
    """ITIL change types: standard changes are pre-approved, emergency ones may be
    submitted without a maintenance window."""

    STANDARD = "standard"
    NORMAL = "normal"
    EMERGENCY = "emergency"


class Risk(enum.Enum):
    """How risky a change is."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


def as_utc(value: datetime) -> datetime:
    """``value`` with a time zone: naive times are taken as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _nonblank(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not value.strip():
        raise ValueError(f"{attribute.name} must not be empty")


def _level(_: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value not in (1, 2, 3):
        raise ValueError(f"{attribute.name} must be 1 (high), 2 or 3 (low)")


def _priority(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and value not in PRIORITIES:
        raise ValueError(f"{attribute.name} must be one of {', '.join(PRIORITIES)}")


# Parts of records ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One thing that happened to a record: who, when, what changed (field -> [before, after])."""

    at: datetime
    actor: str
    action: str
    changes: dict[str, list[Any]] = attrs.field(factory=dict)
    comment: str | None = None


@attrs.frozen(kw_only=True)
class Note:
    """A work-log entry."""

    at: datetime
    author: str
    text: str


@attrs.frozen(kw_only=True)
class ImpactedCi:
    """A CI in an impact snapshot; ``depth`` 0 is an affected CI itself."""

    id: str
    type: str
    name: str
    depth: int


@attrs.frozen(kw_only=True)
class ImpactAnalysis:
    """The CMDB's impact analysis of a record's affected CIs, as it was when taken.

    ``upstream`` is what the affected CIs depend on (where a cause may lie),
    ``downstream`` what depends on them (what an outage or a change reaches). Without a
    CMDB the snapshot says so (``cmdb_available`` false, ``detail``) instead of failing.
    """

    computed_at: datetime
    depth: int
    affected: list[ImpactedCi]
    upstream: list[ImpactedCi]
    downstream: list[ImpactedCi]
    #: False when no CMDB was there to ask (its plugin disabled): the lists are empty.
    cmdb_available: bool = True
    #: Why the analysis is missing, when it is.
    detail: str | None = None


@attrs.define(kw_only=True)
class Sla:
    """An incident's response and resolution timers.

    The response timer stops when the incident first leaves ``new``. The resolution
    timer runs only in ``new`` and ``in_progress``: time on hold (or resolved, until a
    reopen) is added to ``paused_seconds``. ``resolution_due`` is None while paused.
    ``breached`` lists the kinds already reported, so each is published once.
    """

    priority: str
    response_target_seconds: int
    resolution_target_seconds: int
    response_due: datetime
    resolution_due: datetime | None
    responded_at: datetime | None = None
    paused_seconds: float = 0.0
    paused_since: datetime | None = None
    breached: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class Window:
    """A maintenance window; both ends inclusive, naive times taken as UTC."""

    start: datetime = attrs.field(converter=as_utc)
    end: datetime = attrs.field(converter=as_utc)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a window must end after it starts")

    def covers(self, at: datetime) -> bool:
        """True when ``at`` falls inside the window."""
        return self.start <= as_utc(at) <= self.end


@attrs.frozen(kw_only=True)
class Approval:
    """A change approval or rejection: the approver is the token's name."""

    approver: str
    decision: str
    comment: str
    at: datetime


# Records ---------------------------------------------------------------------------------


@attrs.define(kw_only=True)
class Record:
    """What incidents, problems and changes have in common.

    ``correlation_id`` ties a record to what an automation rule made it from (an alert
    fingerprint, a drift on a CI field), so the rule finds it again instead of making
    a duplicate; ``source_data`` keeps what the rule received.
    """

    number: str = ""
    title: str
    description: str = ""
    assignee: str | None = None
    affected_cis: list[str] = attrs.field(factory=list)
    impact_analysis: ImpactAnalysis | None = None
    correlation_id: str | None = None
    source_data: dict[str, Any] = attrs.field(factory=dict)
    created_by: str
    created_at: datetime
    updated_at: datetime
    notes: list[Note] = attrs.field(factory=list)
    history: list[HistoryEntry] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class Incident(Record):
    """An unplanned interruption or degradation of a service."""

    state: IncidentState = IncidentState.NEW
    impact: int = 3
    urgency: int = 3
    priority: str
    #: True when the priority was set by hand rather than derived from impact x urgency.
    priority_overridden: bool = False
    assignment_group: str | None = None
    on_hold_reason: str | None = None
    resolution_notes: str | None = None
    root_cause: str | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    sla: Sla


@attrs.define(kw_only=True)
class Problem(Record):
    """The unknown cause of one or more incidents."""

    state: ProblemState = ProblemState.INVESTIGATING
    incidents: list[str] = attrs.field(factory=list)
    workaround: str | None = None
    root_cause: str | None = None
    resolution_notes: str | None = None
    resolved_at: datetime | None = None


@attrs.define(kw_only=True)
class Change(Record):
    """A planned change to configuration items."""

    state: ChangeState = ChangeState.DRAFT
    type: ChangeType = ChangeType.NORMAL
    risk: Risk = Risk.MODERATE
    rollback_plan: str = ""
    window: Window | None = None
    approvals: list[Approval] = attrs.field(factory=list)
    close_notes: str | None = None


# Requests --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class IncidentRequest:
    """What creates an incident; the priority comes from impact x urgency unless given."""

    title: str = attrs.field(validator=_nonblank)
    description: str = ""
    impact: int = attrs.field(default=3, validator=_level)
    urgency: int = attrs.field(default=3, validator=_level)
    priority: str | None = attrs.field(default=None, validator=_priority)
    assignee: str | None = None
    assignment_group: str | None = None
    affected_cis: list[str] = attrs.field(factory=list)
    correlation_id: str | None = None


@attrs.frozen(kw_only=True)
class IncidentPatch:
    """Fields of an incident to change; None leaves a field as it is, ``""`` clears an assignment."""

    title: str | None = attrs.field(default=None, validator=_nonblank)
    description: str | None = None
    impact: int | None = attrs.field(default=None, validator=_level)
    urgency: int | None = attrs.field(default=None, validator=_level)
    priority: str | None = attrs.field(default=None, validator=_priority)
    assignee: str | None = None
    assignment_group: str | None = None
    affected_cis: list[str] | None = None


@attrs.frozen(kw_only=True)
class ProblemRequest:
    """What creates a problem."""

    title: str = attrs.field(validator=_nonblank)
    description: str = ""
    assignee: str | None = None
    affected_cis: list[str] = attrs.field(factory=list)
    incidents: list[str] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class ProblemPatch:
    """Fields of a problem to change; ``incidents`` replaces the linked incidents."""

    title: str | None = attrs.field(default=None, validator=_nonblank)
    description: str | None = None
    assignee: str | None = None
    affected_cis: list[str] | None = None
    incidents: list[str] | None = None
    workaround: str | None = attrs.field(default=None, validator=_nonblank)
    root_cause: str | None = attrs.field(default=None, validator=_nonblank)


@attrs.frozen(kw_only=True)
class ChangeRequest:
    """What creates a change; a standard change is created approved."""

    title: str = attrs.field(validator=_nonblank)
    type: ChangeType = ChangeType.NORMAL
    description: str = ""
    risk: Risk = Risk.MODERATE
    rollback_plan: str = ""
    window: Window | None = None
    assignee: str | None = None
    affected_cis: list[str] = attrs.field(factory=list)
    correlation_id: str | None = None


@attrs.frozen(kw_only=True)
class ChangePatch:
    """Fields of a change to change; the plan (risk, rollback plan, window, CIs) only in draft."""

    title: str | None = attrs.field(default=None, validator=_nonblank)
    description: str | None = None
    assignee: str | None = None
    risk: Risk | None = None
    rollback_plan: str | None = None
    window: Window | None = None
    affected_cis: list[str] | None = None


@attrs.frozen(kw_only=True)
class NoteRequest:
    """Body of ``POST /itsm/<records>/{number}/notes``."""

    text: str = attrs.field(validator=_nonblank)


# Bodies of workflow actions ----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class NoBody:
    """An action that needs nothing more."""


@attrs.frozen(kw_only=True)
class Reason:
    """An action that needs a reason (hold, reopen, cancel, fail)."""

    reason: str = attrs.field(validator=_nonblank)


@attrs.frozen(kw_only=True)
class StartIncident:
    """``start``: optionally assign the incident as work begins."""

    assignee: str | None = None


@attrs.frozen(kw_only=True)
class ResolveIncident:
    """``resolve``: how it was resolved, and the root cause when known."""

    resolution_notes: str = attrs.field(validator=_nonblank)
    root_cause: str | None = None


@attrs.frozen(kw_only=True)
class KnownError:
    """``known_error``: the workaround that makes a problem a known error."""

    workaround: str = attrs.field(validator=_nonblank)
    root_cause: str | None = None


@attrs.frozen(kw_only=True)
class ResolveProblem:
    """``resolve``: the root cause found, and how it was removed."""

    root_cause: str = attrs.field(validator=_nonblank)
    resolution_notes: str | None = None


@attrs.frozen(kw_only=True)
class Approve:
    """``approve``: an optional comment."""

    comment: str = ""


@attrs.frozen(kw_only=True)
class Reject:
    """``reject``: why, so the requester can revise the change."""

    comment: str = attrs.field(validator=_nonblank)


@attrs.frozen(kw_only=True)
class Schedule:
    """``schedule``: the window, unless the change has one already."""

    window: Window | None = None


@attrs.frozen(kw_only=True)
class Complete:
    """``complete``: optional closing notes."""

    close_notes: str | None = None
