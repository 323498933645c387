"""Drift hooks: how desired and actual values are compared."""

from __future__ import annotations

from typing import Any

from dcsim.hooks import hookspec


@hookspec(firstresult=True)
def dcsim_drift_values_equal(field: str, desired: Any, actual: Any) -> bool | None:
    """Say whether an actual value matches the desired one for a monitored field.

    When: for every monitored field while drift is evaluated. Core's implementation
    (plain equality) runs last, so a plugin can teach dc-sim that, say, two
    ``sshd_config`` texts differing only in comments are equal.

    Args:
        field: the dotted name of the monitored field (``"power_state"``,
            ``"files./etc/ssh/sshd_config"``).
        desired: the value the CMDB holds.
        actual: the value observed in the simulation.

    Returns: True or False, or None to leave the decision to the next plugin.
    Calling rule: first result; stops at the first non-None result.
    """
