"""Incident SLAs: response and resolution targets per priority, timers that pause.

Targets come from the first-result hook ``dcsim_itsm_sla_targets``; core's answer,
:data:`DEFAULT_TARGETS`, runs last. An incident keeps the targets it was given when
its priority was set, so changing the targets does not rewrite running timers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from dcsim.itsm.model import IncidentState, Sla

#: States in which the resolution timer runs; elsewhere it is paused (or stopped).
RUNNING = frozenset({IncidentState.NEW, IncidentState.IN_PROGRESS})
RESPONSE = "response"
RESOLUTION = "resolution"


@attrs.frozen
class SlaTarget:
    """How soon an incident of a priority must be responded to and resolved."""

    response: timedelta
    resolution: timedelta


DEFAULT_TARGETS: dict[str, SlaTarget] = {
    "P1": SlaTarget(timedelta(minutes=15), timedelta(hours=4)),
    "P2": SlaTarget(timedelta(hours=1), timedelta(hours=8)),
    "P3": SlaTarget(timedelta(hours=4), timedelta(hours=24)),
    "P4": SlaTarget(timedelta(hours=8), timedelta(hours=72)),
}


def new_sla(priority: str, target: SlaTarget, created_at: datetime) -> Sla:
    """Timers of an incident created at ``created_at``."""
    sla = Sla(
        priority=priority,
        response_target_seconds=int(target.response.total_seconds()),
        resolution_target_seconds=int(target.resolution.total_seconds()),
        response_due=created_at,
        resolution_due=None,
    )
    _refresh_due(sla, created_at)
    return sla


def retarget(sla: Sla, priority: str, target: SlaTarget, created_at: datetime) -> None:
    """Apply the targets of a new priority; time already spent still counts."""
    sla.priority = priority
    sla.response_target_seconds = int(target.response.total_seconds())
    sla.resolution_target_seconds = int(target.resolution.total_seconds())
    _refresh_due(sla, created_at)


def on_transition(sla: Sla, before: IncidentState, after: IncidentState, now: datetime, created_at: datetime) -> None:
    """Stop the response timer on leaving ``new``; pause or resume the resolution timer."""
    if before is IncidentState.NEW and sla.responded_at is None:
        sla.responded_at = now
    if before in RUNNING and after not in RUNNING:
        sla.paused_since = now
    elif before not in RUNNING and after in RUNNING and sla.paused_since is not None:
        sla.paused_seconds += (now - sla.paused_since).total_seconds()
        sla.paused_since = None
    _refresh_due(sla, created_at)


def elapsed(sla: Sla, kind: str, now: datetime, created_at: datetime) -> float:
    """Seconds counted against the ``kind`` target at ``now``."""
    if kind == RESPONSE:
        return ((sla.responded_at or now) - created_at).total_seconds()
    paused = sla.paused_seconds + ((now - sla.paused_since).total_seconds() if sla.paused_since else 0.0)
    return (now - created_at).total_seconds() - paused


def target_seconds(sla: Sla, kind: str) -> int:
    """The ``kind`` target in seconds."""
    return sla.response_target_seconds if kind == RESPONSE else sla.resolution_target_seconds


def overdue(sla: Sla, now: datetime, created_at: datetime) -> list[str]:
    """Kinds whose target is exceeded at ``now`` and not yet recorded as breached."""
    return [
        kind
        for kind in (RESPONSE, RESOLUTION)
        if kind not in sla.breached and elapsed(sla, kind, now, created_at) > target_seconds(sla, kind)
    ]


def _refresh_due(sla: Sla, created_at: datetime) -> None:
    sla.response_due = created_at + timedelta(seconds=sla.response_target_seconds)
    if sla.paused_since is None:
        sla.resolution_due = created_at + timedelta(seconds=sla.resolution_target_seconds + sla.paused_seconds)
    else:
        sla.resolution_due = None
