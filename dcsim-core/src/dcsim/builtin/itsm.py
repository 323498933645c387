"""The ``itsm`` plugin: incidents, problems and changes, their rules, SLAs and routes.

ITSM reads the CMDB through its service when the ``cmdb`` plugin is on
(``dcsim.services.find(Cmdb)``) and degrades without it.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from dcsim.hooks import hookimpl
from dcsim.itsm.priority import matrix_priority
from dcsim.model import Event
from dcsim.registry import EventTypeRegistry, RouteRegistry, ServiceRegistry, SubscriberRegistry
from dcsim.settings import Settings

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.itsm.rules import RuleRegistry
    from dcsim.itsm.service import Itsm
    from dcsim.itsm.sla import SlaTarget


def _itsm(dcsim: DcSim) -> Itsm:
    from dcsim.itsm.service import Itsm

    return dcsim.services.get(Itsm)


@hookimpl
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    from dcsim.itsm.metrics import ItsmCollector
    from dcsim.itsm.service import Itsm

    itsm = Itsm(settings)
    registry.add("itsm", itsm)
    registry.add("itsm-metrics", ItsmCollector(itsm))


# tryfirst, registered before ``cmdb``: starts right after the CMDB it reads.
@hookimpl(tryfirst=True)
async def dcsim_startup(dcsim: DcSim) -> None:
    from dcsim.itsm.metrics import ItsmCollector

    await _itsm(dcsim).start(dcsim)
    dcsim.metrics.register(dcsim.services.get(ItsmCollector))


@hookimpl(tryfirst=True)
async def dcsim_shutdown(dcsim: DcSim) -> None:
    from dcsim.itsm.metrics import ItsmCollector

    # Not registered when the start-up failed before it; a restart registers it again.
    with contextlib.suppress(KeyError):
        dcsim.metrics.unregister(dcsim.services.get(ItsmCollector))
    await _itsm(dcsim).close()


@hookimpl
def dcsim_register_subscribers(registry: SubscriberRegistry) -> None:
    async def run_itsm_rules(dcsim: DcSim, event: Event) -> None:
        await _itsm(dcsim).on_event(event)

    # Every type: rules come from a hook at start, after subscriptions are fixed.
    registry.add("itsm-rules", run_itsm_rules, types=("*",))


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    from dcsim.itsm.service import EVENT_TYPES

    registry.add_catalogue(EVENT_TYPES)


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim.itsm.routes import HANDLERS

    registry.add_all(HANDLERS)


@hookimpl(trylast=True)
def dcsim_itsm_priority(impact: int, urgency: int) -> str:
    return matrix_priority(impact, urgency)


@hookimpl(trylast=True)
def dcsim_itsm_sla_targets(priority: str) -> SlaTarget | None:
    from dcsim.itsm.sla import DEFAULT_TARGETS

    return DEFAULT_TARGETS.get(priority)


@hookimpl
def dcsim_itsm_register_rules(registry: RuleRegistry) -> None:
    from dcsim.itsm.rules import register_builtin_rules

    register_builtin_rules(registry)
