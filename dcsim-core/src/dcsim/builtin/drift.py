"""The ``drift`` plugin: owns the ``drift.detected`` event and the default value comparison.

Drift is its own area: ITSM only consumes ``drift.detected`` (its rule
``drift-change-requests``), so with this plugin off the event is undeclared and the
rule never fires.
"""

from __future__ import annotations

from typing import Any

from dcsim.hooks import hookimpl
from dcsim.registry import EventTypeRegistry

#: The ``drift.detected`` event: description and the fields of its data.
DRIFT_DETECTED: tuple[str, dict[str, str]] = (
    "a monitored field differs from its desired state",
    {
        "ci": "id (or name) of the CI",
        "field": "the monitored field",
        "desired": "value in the CMDB",
        "actual": "value observed",
        "severity": "low | medium | high | critical",
        "policy": "{name, auto_change_request: bool}: the drift policy that matched",
    },
)


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    registry.add_catalogue({"drift.detected": DRIFT_DETECTED})


@hookimpl(trylast=True)
def dcsim_drift_values_equal(field: str, desired: Any, actual: Any) -> bool:
    return bool(desired == actual)
