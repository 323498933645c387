"""ITSM hooks: how incidents are prioritised and timed, and the automation rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.itsm.rules import RuleRegistry
    from dcsim.itsm.sla import SlaTarget


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


@hookspec(firstresult=True)
def dcsim_itsm_sla_targets(priority: str) -> SlaTarget | None:
    """Give the response and resolution targets of an incident priority.

    When: whenever an incident gets a priority (on creation and when it changes); the
    incident keeps the targets it was given. Core's implementation runs last and
    answers P1 15 min / 4 h, P2 1 h / 8 h, P3 4 h / 24 h, P4 8 h / 72 h.

    Args:
        priority: ``"P1"`` to ``"P4"``.

    Returns: ``dcsim.itsm.sla.SlaTarget(response=timedelta, resolution=timedelta)``,
    or None to leave the decision to the next plugin.
    Calling rule: first result; stops at the first non-None result.
    """


@hookspec
def dcsim_itsm_register_rules(registry: RuleRegistry) -> None:
    """Add ITSM automation rules: reactions to bus events and to alert webhooks.

    When: once, when the ITSM service starts (after the CMDB). Core registers
    ``alertmanager-incidents`` (webhook receiver ``alertmanager``) and
    ``drift-change-requests`` (``drift.detected``). Any rule can be switched off by
    name with the setting ``itsm_disabled_rules``. Event rules run from the
    ``itsm-rules`` consumer group, so at least once: make them idempotent (the
    service's ``itsm.incidents.find_open`` / ``itsm.changes.find_open`` by correlation id help).

    Args:
        registry: call ``registry.add_event_rule(name, handler, types=("drift.*",),
            description=...)`` with ``async def handler(itsm, event) -> None``, or
            ``registry.add_webhook_rule(name, handler, receiver="grafana",
            description=...)`` with ``async def handler(itsm, payload) -> dict``, run
            for ``POST /itsm/alerts/<receiver>`` and answered to its caller.

    Returns: nothing. Calling rule: every implementation is called.
    """
