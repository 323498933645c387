"""The request bodies of the ``/itsm`` API (SPEC-010: msgspec models at the HTTP edge).

Each model is decoded strictly (unknown fields, wrong types and values out of bounds are
a 422 listing every field) and then turned into the domain request of
:mod:`dcsim.itsm.model` with :func:`to_domain`, which runs the domain's own checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, TypeVar

import msgspec

from dcsim.convert import from_json
from dcsim.errors import InvalidInput
from dcsim.itsm.model import ChangeType, Risk, as_utc
from dcsim.web.contracts import Model, Text, ValidationFailed

T = TypeVar("T")

Title = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=200,
        pattern=r"\S",
        description="1..200 characters, not only spaces",
        examples=["Disk full on db-01"],
    ),
]
Level = Annotated[int, msgspec.Meta(ge=1, le=3, description="1 (high), 2 (medium) or 3 (low)", examples=[2])]
Priority = Literal["P1", "P2", "P3", "P4"]
Person = Annotated[
    str, msgspec.Meta(max_length=80, description='A person or group; "" clears it in a PATCH', examples=["alice"])
]
CiRef = Annotated[str, msgspec.Meta(min_length=1, max_length=128, description="A CI id", examples=["3f2a9c0d1b"])]
CiRefs = Annotated[list[CiRef], msgspec.Meta(max_length=100, description="Affected CIs (ids), at most 100")]
IncidentNumber = Annotated[str, msgspec.Meta(pattern=r"^INC\d{7}$", examples=["INC0001001"])]
CorrelationId = Annotated[
    str, msgspec.Meta(min_length=1, max_length=200, description="What a rule made the record from")
]
NoteText = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S", description="1..4000 characters")]


class WindowBody(Model):
    """A maintenance window; both ends inclusive, times without a zone taken as UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        # Raised here, the error names the window (a 422) like every other field's.
        if as_utc(self.end) <= as_utc(self.start):
            raise ValueError("a window must end after it starts")


class IncidentCreate(Model):
    """Body of ``POST /itsm/incidents``: the priority comes from impact x urgency unless given."""

    title: Title
    description: Text = ""
    impact: Level = 3
    urgency: Level = 3
    priority: Priority | None = None
    assignee: Person | None = None
    assignment_group: Person | None = None
    affected_cis: CiRefs = msgspec.field(default_factory=list)
    correlation_id: CorrelationId | None = None


class IncidentChange(Model):
    """Body of ``PATCH /itsm/incidents/{number}``: absent or null fields stay as they are."""

    title: Title | None = None
    description: Text | None = None
    impact: Level | None = None
    urgency: Level | None = None
    priority: Priority | None = None
    assignee: Person | None = None
    assignment_group: Person | None = None
    affected_cis: CiRefs | None = None


class ProblemCreate(Model):
    """Body of ``POST /itsm/problems``."""

    title: Title
    description: Text = ""
    assignee: Person | None = None
    affected_cis: CiRefs = msgspec.field(default_factory=list)
    incidents: list[IncidentNumber] = msgspec.field(default_factory=list)


class ProblemChange(Model):
    """Body of ``PATCH /itsm/problems/{number}``: ``incidents`` replaces the linked incidents."""

    title: Title | None = None
    description: Text | None = None
    assignee: Person | None = None
    affected_cis: CiRefs | None = None
    incidents: list[IncidentNumber] | None = None
    workaround: NoteText | None = None
    root_cause: NoteText | None = None


class ChangeCreate(Model):
    """Body of ``POST /itsm/changes``: a standard change is created approved."""

    title: Title
    type: ChangeType = ChangeType.NORMAL
    description: Text = ""
    risk: Risk = Risk.MODERATE
    rollback_plan: Text = ""
    window: WindowBody | None = None
    assignee: Person | None = None
    affected_cis: CiRefs = msgspec.field(default_factory=list)
    correlation_id: CorrelationId | None = None


class ChangeChange(Model):
    """Body of ``PATCH /itsm/changes/{number}``: the plan (risk, rollback plan, window,
    CIs) changes only in draft."""

    title: Title | None = None
    description: Text | None = None
    assignee: Person | None = None
    risk: Risk | None = None
    rollback_plan: Text | None = None
    window: WindowBody | None = None
    affected_cis: CiRefs | None = None


class NoteCreate(Model):
    """Body of ``POST /itsm/<records>/{number}/notes``."""

    text: NoteText


def to_domain(data: msgspec.Struct, cls: type[T]) -> T:
    """The domain request ``cls`` carrying ``data``'s fields (its validators run); a
    domain check that fails is a 422 naming the field, like the model's own checks."""
    try:
        return from_json(msgspec.to_builtins(data), cls)
    except InvalidInput as exc:
        errors = exc.extra.get("errors") or [{"field": "", "message": exc.detail}]
        raise ValidationFailed(exc.detail, errors=errors) from None


# Answers ---------------------------------------------------------------------------------


class RuleInfo(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An automation rule: an event rule lists its event types, a webhook rule its receiver."""

    name: str
    description: str
    kind: Literal["event", "webhook"]
    enabled: bool
    types: list[str] | None = None
    receiver: str | None = None


class SlaTargetInfo(msgspec.Struct, kw_only=True):
    """The response and resolution targets of one priority, in seconds."""

    response_seconds: Annotated[int, msgspec.Meta(ge=0)]
    resolution_seconds: Annotated[int, msgspec.Meta(ge=0)]


class SlaTargets(msgspec.Struct, kw_only=True):
    """The SLA targets of every priority."""

    P1: SlaTargetInfo
    P2: SlaTargetInfo
    P3: SlaTargetInfo
    P4: SlaTargetInfo


Table = Annotated[dict[str, dict[str, str]], msgspec.Meta(description="state -> {action: next state}")]


class Workflows(msgspec.Struct, kw_only=True):
    """The transition table of each record kind."""

    incident: Table
    problem: Table
    change: Table
