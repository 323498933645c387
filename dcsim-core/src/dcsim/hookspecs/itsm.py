"""ITSM hooks: how incidents are prioritised."""

from __future__ import annotations

from dcsim.hooks import hookspec


@hookspec(firstresult=True)
def dcsim_itsm_priority(impact: int, urgency: int) -> str | None:
    """Derive an incident's priority from its impact and urgency.

    When: whenever an incident is created or changed without an explicit priority.
    Core's implementation (the ServiceNow-style 3 x 3 matrix folded onto P1-P4) runs
    last, so a plugin can impose its own matrix.

    Args:
        impact: 1 (high) to 3 (low).
        urgency: 1 (high) to 3 (low).

    Returns: ``"P1"`` to ``"P4"``, or None to leave the decision to the next plugin.
    Calling rule: first result; stops at the first non-None result.
    """
