"""The events ITSM publishes, with their documented data (declared at start)."""

from __future__ import annotations

#: The CloudEvents ``source`` of every ITSM event.
SOURCE = "/itsm"

_RECORD = "the record after the change"
_CHANGED = {
    "action": "updated, note, or the workflow action",
    "changes": "field -> [before, after]",
    "comment": "the reason or comment given, if any",
    "actor": "who",
}
EVENT_TYPES: dict[str, tuple[str, dict[str, str]]] = {
    "incident.created": ("an incident was opened", {"incident": "the incident", "actor": "who"}),
    "incident.updated": ("an incident changed or moved in its workflow", {"incident": _RECORD, **_CHANGED}),
    "incident.sla_breached": (
        "an incident exceeded its response or resolution target (once per kind)",
        {
            "incident": "the incident",
            "kind": "response | resolution",
            "priority": "the priority whose target applies",
            "target_seconds": "the target",
            "elapsed_seconds": "time counted against it (resolution excludes time on hold)",
        },
    ),
    "problem.created": ("a problem was opened", {"problem": "the problem", "actor": "who"}),
    "problem.updated": ("a problem changed or moved in its workflow", {"problem": _RECORD, **_CHANGED}),
    "change.created": (
        "a change was requested (standard changes arrive approved)",
        {"change": "the change", "actor": "who"},
    ),
    "change.updated": ("a change's fields or notes changed", {"change": _RECORD, **_CHANGED}),
    "change.submitted": ("a change went for approval", {"change": _RECORD, **_CHANGED}),
    "change.approved": ("a change was approved", {"change": _RECORD, **_CHANGED}),
    "change.rejected": ("a change was rejected back to draft", {"change": _RECORD, **_CHANGED}),
    "change.scheduled": ("a change was scheduled or rescheduled", {"change": _RECORD, **_CHANGED}),
    "change.started": ("a change's implementation began", {"change": _RECORD, **_CHANGED}),
    "change.completed": ("a change was implemented", {"change": _RECORD, **_CHANGED}),
    "change.failed": ("a change's implementation failed", {"change": _RECORD, **_CHANGED}),
    "change.cancelled": ("a change was cancelled", {"change": _RECORD, **_CHANGED}),
}
