"""ITSM automation rules: named reactions to bus events and to webhooks.

Plugins add rules through the hook ``dcsim_itsm_register_rules``; the setting
``itsm_disabled_rules`` switches rules off by name. Event rules run from the
``itsm-rules`` consumer group (so at least once: they must be idempotent); webhook
rules run when ``POST /itsm/alerts/{receiver}`` is called for their receiver.

Core's rules:

``alertmanager-incidents``
    Alertmanager webhook (receiver ``alertmanager``) to incidents; see
    :mod:`dcsim.itsm.alertmanager`.
``drift-change-requests``
    ``drift.detected`` events whose policy asks for it become draft change requests.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs
import structlog

from dcsim.convert import from_json
from dcsim.errors import ConfigError, DcsimError
from dcsim.itsm.model import ChangeRequest, ChangeType, Risk

if TYPE_CHECKING:
    from dcsim.itsm.service import Itsm
    from dcsim.model import Event

log = structlog.get_logger(__name__)

EventRuleHandler = Callable[["Itsm", "Event"], Awaitable[None]]
#: ``handler(itsm, payload) -> report``: the report is answered to the webhook's caller.
WebhookRuleHandler = Callable[["Itsm", dict[str, Any]], Awaitable[dict[str, Any]]]


@attrs.frozen(kw_only=True)
class EventRule:
    """A rule run for every bus event whose type matches one of ``types`` (globs)."""

    name: str
    description: str
    types: tuple[str, ...]
    handler: EventRuleHandler

    def wants(self, event_type: str) -> bool:
        """True when ``event_type`` matches one of the rule's patterns."""
        return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in self.types)


@attrs.frozen(kw_only=True)
class WebhookRule:
    """A rule run for each payload posted to ``/itsm/alerts/{receiver}``."""

    name: str
    description: str
    receiver: str
    handler: WebhookRuleHandler


class RuleRegistry:
    """The automation rules of the ITSM service, and which of them are switched off."""

    def __init__(self, disabled: tuple[str, ...] = ()) -> None:
        self.disabled = frozenset(disabled)
        self._rules: dict[str, EventRule | WebhookRule] = {}

    def add_event_rule(
        self, name: str, handler: EventRuleHandler, *, types: tuple[str, ...] | list[str], description: str
    ) -> None:
        """Run ``async handler(itsm, event)`` for bus events matching ``types``."""
        self._add(EventRule(name=name, description=description, types=tuple(types), handler=handler))

    def add_webhook_rule(self, name: str, handler: WebhookRuleHandler, *, receiver: str, description: str) -> None:
        """Run ``async handler(itsm, payload) -> report`` for ``POST /itsm/alerts/{receiver}``."""
        self._add(WebhookRule(name=name, description=description, receiver=receiver, handler=handler))

    def _add(self, rule: EventRule | WebhookRule) -> None:
        if rule.name in self._rules:
            raise ConfigError(f"ITSM rule {rule.name!r} is registered twice")
        self._rules[rule.name] = rule

    def names(self) -> list[str]:
        """Every rule's name, in registration order."""
        return list(self._rules)

    def enabled(self, name: str) -> bool:
        """True when rule ``name`` exists and is not switched off."""
        return name in self._rules and name not in self.disabled

    def event_rules(self, event_type: str) -> list[EventRule]:
        """Enabled event rules that want ``event_type``."""
        return [
            rule
            for rule in self._rules.values()
            if isinstance(rule, EventRule) and self.enabled(rule.name) and rule.wants(event_type)
        ]

    def webhook_rules(self, receiver: str) -> list[WebhookRule]:
        """Every webhook rule of ``receiver``, enabled or not."""
        return [rule for rule in self._rules.values() if isinstance(rule, WebhookRule) and rule.receiver == receiver]

    def describe(self) -> list[dict[str, Any]]:
        """The rules as JSON for ``GET /itsm/rules``."""
        described = []
        for rule in self._rules.values():
            entry: dict[str, Any] = {"name": rule.name, "description": rule.description}
            if isinstance(rule, EventRule):
                entry |= {"kind": "event", "types": list(rule.types)}
            else:
                entry |= {"kind": "webhook", "receiver": rule.receiver}
            described.append(entry | {"enabled": self.enabled(rule.name)})
        return described


# drift-change-requests --------------------------------------------------------------------

DRIFT_RULE = "drift-change-requests"
_DRIFT_RISK = {"critical": Risk.HIGH, "high": Risk.HIGH, "medium": Risk.MODERATE, "low": Risk.LOW}


@attrs.frozen(kw_only=True)
class DriftPolicy:
    """The part of a drift policy ITSM reads."""

    name: str = ""
    auto_change_request: bool = False


@attrs.frozen(kw_only=True)
class DriftDetected:
    """The data of a ``drift.detected`` event, as ITSM reads it."""

    ci: str
    field: str
    desired: Any = None
    actual: Any = None
    severity: str = "medium"
    policy: DriftPolicy = attrs.field(factory=DriftPolicy)


async def drift_change_requests(itsm: Itsm, event: Event) -> None:
    """Open a draft normal change to remediate a drift whose policy asks for one.

    One open change per CI and field: while one is open, the same drift again adds
    nothing. A malformed event is logged and dropped (redelivery would not mend it).
    """
    try:
        drift = from_json(event.data, DriftDetected)
    except DcsimError as exc:
        log.warning("itsm.drift_event_malformed", event_id=event.id, error=exc.detail)
        return
    if not drift.policy.auto_change_request:
        return
    correlation_id = f"drift:{drift.ci}:{drift.field}"
    if itsm.changes.find_open(correlation_id) is not None:
        return
    ci = await itsm.find_ci(drift.ci)
    ci_name = ci.name if ci else drift.ci
    policy = f" (policy {drift.policy.name})" if drift.policy.name else ""
    request = ChangeRequest(
        title=f"Remediate drift of {drift.field} on {ci_name}",
        type=ChangeType.NORMAL,
        description=f"Drift detected{policy}: {drift.field} is {drift.actual!r}, desired {drift.desired!r}.",
        risk=_DRIFT_RISK.get(drift.severity.lower(), Risk.MODERATE),
        rollback_plan=f"Set {drift.field} back to {drift.actual!r}.",
        affected_cis=[ci.id] if ci else [],
        correlation_id=correlation_id,
    )
    change = await itsm.changes.create(request, f"rule:{DRIFT_RULE}", source_data={"event": event.id, **event.data})
    if ci is None:
        await itsm.changes.add_note(change.number, f"No CI matches {drift.ci!r}.", f"rule:{DRIFT_RULE}")


def register_builtin_rules(registry: RuleRegistry) -> None:
    """Core's rules (registered by core's ``dcsim_itsm_register_rules``)."""
    from dcsim.itsm.alertmanager import ALERTMANAGER_RULE, RECEIVER, alertmanager_incidents

    registry.add_webhook_rule(
        ALERTMANAGER_RULE,
        alertmanager_incidents,
        receiver=RECEIVER,
        description="Alertmanager webhook: firing P1/P2 alerts open or update an incident, resolved ones resolve it",
    )
    registry.add_event_rule(
        DRIFT_RULE,
        drift_change_requests,
        types=("drift.detected",),
        description="drift.detected with policy.auto_change_request opens a draft change to remediate it",
    )
