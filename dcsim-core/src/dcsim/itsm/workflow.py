"""The ITSM workflows as explicit transition tables: state -> {action: next state}.

The tables are the single source of truth: the service moves records only through
them, the 409 for an illegal action names what the table allows from the current
state, ``GET /itsm/workflows`` publishes them, and the tests walk every
(state, action) pair of each.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from dcsim.errors import Conflict, NotFound
from dcsim.itsm.model import (
    Approve,
    ChangeState,
    Complete,
    IncidentState,
    KnownError,
    NoBody,
    ProblemState,
    Reason,
    Reject,
    ResolveIncident,
    ResolveProblem,
    Schedule,
    StartIncident,
)

S = TypeVar("S", bound=enum.Enum)

_I = IncidentState
INCIDENT_TRANSITIONS: dict[IncidentState, dict[str, IncidentState]] = {
    _I.NEW: {"start": _I.IN_PROGRESS, "hold": _I.ON_HOLD, "resolve": _I.RESOLVED, "cancel": _I.CANCELLED},
    _I.IN_PROGRESS: {"hold": _I.ON_HOLD, "resolve": _I.RESOLVED, "cancel": _I.CANCELLED},
    _I.ON_HOLD: {"resume": _I.IN_PROGRESS, "resolve": _I.RESOLVED, "cancel": _I.CANCELLED},
    _I.RESOLVED: {"close": _I.CLOSED, "reopen": _I.IN_PROGRESS},
    _I.CLOSED: {},
    _I.CANCELLED: {},
}

_P = ProblemState
PROBLEM_TRANSITIONS: dict[ProblemState, dict[str, ProblemState]] = {
    _P.INVESTIGATING: {"known_error": _P.KNOWN_ERROR, "resolve": _P.RESOLVED},
    _P.KNOWN_ERROR: {"resolve": _P.RESOLVED},
    _P.RESOLVED: {"reopen": _P.INVESTIGATING},
}

_C = ChangeState
CHANGE_TRANSITIONS: dict[ChangeState, dict[str, ChangeState]] = {
    _C.DRAFT: {"submit": _C.PENDING_APPROVAL, "cancel": _C.CANCELLED},
    _C.PENDING_APPROVAL: {"approve": _C.APPROVED, "reject": _C.DRAFT, "cancel": _C.CANCELLED},
    _C.APPROVED: {"schedule": _C.SCHEDULED, "cancel": _C.CANCELLED},
    _C.SCHEDULED: {"schedule": _C.SCHEDULED, "start": _C.IN_PROGRESS, "cancel": _C.CANCELLED},
    _C.IN_PROGRESS: {"complete": _C.COMPLETED, "fail": _C.FAILED},
    _C.COMPLETED: {},
    _C.FAILED: {},
    _C.CANCELLED: {},
}

#: What each action's request body must hold.
INCIDENT_ACTION_BODIES: dict[str, type[Any]] = {
    "start": StartIncident,
    "hold": Reason,
    "resume": NoBody,
    "resolve": ResolveIncident,
    "close": NoBody,
    "reopen": Reason,
    "cancel": Reason,
}
PROBLEM_ACTION_BODIES: dict[str, type[Any]] = {"known_error": KnownError, "resolve": ResolveProblem, "reopen": Reason}
CHANGE_ACTION_BODIES: dict[str, type[Any]] = {
    "submit": NoBody,
    "approve": Approve,
    "reject": Reject,
    "schedule": Schedule,
    "start": NoBody,
    "complete": Complete,
    "fail": Reason,
    "cancel": Reason,
}

#: The event each change action publishes (what happened, in the past tense).
CHANGE_EVENTS = {
    "submit": "change.submitted",
    "approve": "change.approved",
    "reject": "change.rejected",
    "schedule": "change.scheduled",
    "start": "change.started",
    "complete": "change.completed",
    "fail": "change.failed",
    "cancel": "change.cancelled",
}


def actions(table: dict[S, dict[str, S]]) -> list[str]:
    """Every action a table knows, sorted."""
    return sorted({action for moves in table.values() for action in moves})


def is_final(table: dict[S, dict[str, S]], state: S) -> bool:
    """True for a state with no way out (closed, cancelled, completed, failed)."""
    return not table[state]


def next_state(table: dict[S, dict[str, S]], number: str, state: S, action: str) -> S:
    """The state ``action`` moves a record in ``state`` to.

    Raises :class:`NotFound` for an action the table does not know and
    :class:`Conflict` (409) naming the allowed actions and states for one it does not
    allow from ``state``.
    """
    if action not in actions(table):
        raise NotFound(f"no action {action!r}; actions: {', '.join(actions(table))}", actions=actions(table))
    moves = table[state]
    if action not in moves:
        allowed = sorted(moves)
        detail = f"{number} is {state.value}: {action} is not allowed"
        detail += f" (allowed: {', '.join(allowed)})" if allowed else f" ({state.value} is final)"
        raise Conflict(
            detail,
            state=state.value,
            action=action,
            allowed=allowed,
            allowed_states=sorted({moves[a].value for a in allowed}),
        )
    return moves[action]


def describe(table: dict[S, dict[str, S]]) -> dict[str, dict[str, str]]:
    """A table as plain JSON: state -> {action: next state}."""
    return {state.value: {action: to.value for action, to in moves.items()} for state, moves in table.items()}
