"""Drift hooks: where observations come from, how values compare, how drift is put back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.drift.registry import DriftSourceRegistry


@hookspec
def dcsim_drift_register_sources(registry: DriftSourceRegistry) -> None:
    """Register drift sources: event-driven observers of desired against actual state.

    When: once, as the ``drift`` plugin starts. Core registers its own sources (watched
    files, power state, health, package sets, network membership); a vendor adds what only
    it knows, such as a blade's firmware against its profile's policy.

    Args:
        registry: call ``registry.add(name, event_types, observe, fields=..., sweep=...,
            recheck=...)``. ``observe(drift, event)`` is awaited for each bus event whose
            type matches ``event_types`` (globs) and returns a list of
            :class:`dcsim.drift.model.Observation`; ``sweep(drift)`` observes everything
            for ``POST /drift/reconcile``; ``recheck(drift, drift_event)`` observes one
            drift again after its remediation.

    Returns: nothing.
    Calling rule: collected; every implementation is called.
    """


@hookspec(firstresult=True)
def dcsim_drift_values_equal(field: str, desired: Any, actual: Any) -> bool | None:
    """Say whether an actual value matches the desired one for a monitored field.

    When: for every observation drift evaluates. Core's implementation (plain equality)
    runs last, so a plugin can teach dc-sim that, say, two ``sshd_config`` texts
    differing only in comments are equal.

    Args:
        field: the monitored field (``"power_state"``, ``"/etc/ssh/sshd_config"``,
            ``"packages.openssl"``).
        desired: the desired value (the CMDB's, or the file's known-good version).
        actual: the value observed in the simulation.

    Returns: True or False, or None to leave the decision to the next plugin.
    Calling rule: first result; stops at the first non-None result.
    """


@hookspec(firstresult=True)
def dcsim_drift_choose_remediation(drift: dict[str, Any], policy: dict[str, Any]) -> str | None:
    """Choose the playbook that puts a drift back.

    When: as a drift whose policy has ``auto_remediate`` is published, and when a
    remediation is asked for (``POST /drift/events/{id}/remediate``). The answer goes in
    ``drift.detected``'s ``policy.remediation``, which the runner's trigger runs.

    Args:
        drift: the drift event (``ci``, ``field``, ``category``, ``desired``, ``actual``, ...).
        policy: the policy that matched (``id``, ``name``, ``remediation``, ...).

    Returns: a playbook name, or None to leave the choice to the next plugin (core's
    answer, last: the policy's ``remediation``, else None and the runner picks by field).
    Calling rule: first result; stops at the first non-None result.
    """
