"""Incident priority from impact x urgency."""

from __future__ import annotations

from dcsim.errors import InvalidInput

# ServiceNow's 3 x 3 matrix gives P1-P5; dc-sim has P1-P4, so its P5 folds into P4.
_MATRIX: dict[tuple[int, int], str] = {
    (1, 1): "P1",
    (1, 2): "P2",
    (2, 1): "P2",
    (1, 3): "P3",
    (2, 2): "P3",
    (3, 1): "P3",
    (2, 3): "P4",
    (3, 2): "P4",
    (3, 3): "P4",
}


def matrix_priority(impact: int, urgency: int) -> str:
    """Core's priority for ``impact`` and ``urgency``, each 1 (high) to 3 (low)."""
    try:
        return _MATRIX[(impact, urgency)]
    except KeyError:
        raise InvalidInput(f"impact and urgency must be 1, 2 or 3 (got {impact}, {urgency})") from None
