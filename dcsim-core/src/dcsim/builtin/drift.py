"""The ``drift`` plugin: drift detection and remediation (:mod:`dcsim.drift`, SPEC-014).

It owns ``drift.detected`` and ``drift.resolved``: ITSM only consumes ``drift.detected``
(its rule ``drift-change-requests``), so with this plugin off the events are undeclared
and the rule never fires.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.hooks import hookimpl
from dcsim.model import Event
from dcsim.registry import EventTypeRegistry, RouteRegistry, ServiceRegistry, SubscriberRegistry
from dcsim.settings import Settings

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.drift.registry import DriftSourceRegistry
    from dcsim.drift.service import DriftService

#: The ``drift.detected`` event: description and the fields of its data.
DRIFT_DETECTED: tuple[str, dict[str, str]] = (
    "a monitored field differs from its desired state",
    {
        "id": "the drift event (GET /drift/events/{id})",
        "ci": "id (or name) of the CI",
        "ci_name": "the CI's name",
        "field": "the monitored field (a file's path, power_state, packages.<name>, ...)",
        "desired": "the desired value (the CMDB's, or the file's known-good text)",
        "actual": "value observed",
        "diff": "unified diff from desired to actual, for files",
        "severity": "low | medium | high | critical",
        "category": "Configuration | Package | Network | State | Security | Firmware",
        "policy": "{id, name, auto_change_request, auto_remediate, remediation?}: the policy that matched",
        "notify": "the policy's notification targets (team or channel names) for whoever routes alerts",
        "correlation_id": "drift:<ci>:<field>, carried by the change request and the remediation run",
        "detected_at": "when it was detected",
    },
)
DRIFT_RESOLVED: tuple[str, dict[str, str]] = (
    "a drift event is resolved: the field is back at its desired value",
    {
        "id": "the drift event",
        "ci": "the CI",
        "field": "the field",
        "correlation_id": "as drift.detected's",
        "resolved_at": "when",
        "reason": "why",
    },
)


def _drift(dcsim: DcSim) -> DriftService:
    from dcsim.drift.service import DriftService

    return dcsim.services.get(DriftService)


@hookimpl
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    from dcsim.drift.service import DriftService

    registry.add("drift", DriftService(settings))


@hookimpl
async def dcsim_startup(dcsim: DcSim) -> None:
    from dcsim.drift.metrics import DriftCollector

    drift = _drift(dcsim)
    await drift.start(dcsim)
    dcsim.metrics.register(DriftCollector(drift))


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    registry.add_catalogue({"drift.detected": DRIFT_DETECTED, "drift.resolved": DRIFT_RESOLVED})


@hookimpl
def dcsim_register_subscribers(registry: SubscriberRegistry) -> None:
    async def observe_drift(dcsim: DcSim, event: Event) -> None:
        await _drift(dcsim).on_event(event)

    # Every type: sources come from a hook at start, after subscriptions are fixed.
    registry.add("drift", observe_drift, types=("*",))


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim.drift.routes import HANDLERS

    registry.add_all(HANDLERS)


@hookimpl
def dcsim_drift_register_sources(registry: DriftSourceRegistry) -> None:
    from dcsim.drift.sources import register_core_sources

    register_core_sources(registry)


@hookimpl(trylast=True)
def dcsim_drift_values_equal(field: str, desired: Any, actual: Any) -> bool:
    return bool(desired == actual)


@hookimpl(trylast=True)
def dcsim_drift_choose_remediation(drift: dict[str, Any], policy: dict[str, Any]) -> str | None:
    remediation = policy.get("remediation")
    return str(remediation) if remediation else None
