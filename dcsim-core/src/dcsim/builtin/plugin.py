"""Core's own features, registered through the same hooks as any third-party plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.cmdb.types import CI_TYPES, RELATIONSHIP_TYPES
from dcsim.hooks import hookimpl
from dcsim.itsm.priority import matrix_priority
from dcsim.model import Check, Event
from dcsim.patch.versions import compare_versions
from dcsim.registry import (
    CmdbTypeRegistry,
    EventTypeRegistry,
    LoadProfileRegistry,
    RouteRegistry,
    ServiceRegistry,
    SubscriberRegistry,
)
from dcsim.settings import Settings
from dcsim.sim.profiles import DEFAULT_PROFILES

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.itsm.rules import RuleRegistry
    from dcsim.itsm.sla import SlaTarget
    from dcsim.sim.topology import Topology


@hookimpl
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    from dcsim.cmdb.service import Cmdb
    from dcsim.itsm.service import Itsm
    from dcsim.sim.engine import Simulation

    registry.add("sim", Simulation(settings))
    registry.add("cmdb", Cmdb(settings))
    registry.add("itsm", Itsm(settings))


# tryfirst: the simulation, CMDB and ITSM are running before any plugin starts, and
# (shutdown being the reverse order) they stop after every plugin has.
@hookimpl(tryfirst=True)
async def dcsim_startup(dcsim: DcSim) -> None:
    from dcsim.sim.metrics import SimMetrics

    await dcsim.sim.start(dcsim)
    dcsim.sim.collector = SimMetrics(dcsim.sim, seed=dcsim.settings.sim_seed)
    dcsim.metrics.register(dcsim.sim.collector)
    await dcsim.services["cmdb"].start(dcsim)
    await dcsim.services["itsm"].start(dcsim)


@hookimpl(tryfirst=True)
async def dcsim_shutdown(dcsim: DcSim) -> None:
    await dcsim.services["itsm"].close()
    await dcsim.services["cmdb"].close()
    if dcsim.sim.collector is not None:
        # A restarted instance registers a new one.
        dcsim.metrics.unregister(dcsim.sim.collector)
        dcsim.sim.collector = None
    await dcsim.sim.close()


@hookimpl
def dcsim_register_subscribers(registry: SubscriberRegistry) -> None:
    from dcsim.cmdb.service import SYNC_EVENT_TYPES

    async def sync_cmdb(dcsim: DcSim, event: Event) -> None:
        await dcsim.services["cmdb"].on_event(dcsim, event)

    registry.add("cmdb-sync", sync_cmdb, types=SYNC_EVENT_TYPES)

    async def run_itsm_rules(dcsim: DcSim, event: Event) -> None:
        await dcsim.services["itsm"].on_event(event)

    # Every type: rules come from a hook at start, after subscriptions are fixed.
    registry.add("itsm-rules", run_itsm_rules, types=("*",))


@hookimpl
async def dcsim_readiness(dcsim: DcSim) -> list[Check]:
    checks = []
    for name, probe, driver in [
        ("nodes", dcsim.sim.nodes.ping, dcsim.sim.nodes.name),
        ("cmdb", dcsim.services["cmdb"].backend.ping, dcsim.services["cmdb"].backend.name),
    ]:
        try:
            await probe()
        except Exception as exc:
            checks.append(Check(name, False, f"{driver}: {exc}"))
        else:
            checks.append(Check(name, True, driver))
    return checks


@hookimpl(tryfirst=True)
def dcsim_sim_seed_topology(topology: Topology, settings: Settings) -> None:
    from dcsim.sim.topology import build_default

    if settings.sim_topology == "default":
        build_default(topology)


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim.cmdb import routes as cmdb_routes
    from dcsim.itsm import routes as itsm_routes
    from dcsim.sim import routes as sim_routes
    from dcsim.web import core_routes as routes

    for handler in (
        routes.HealthController,
        routes.PluginsController,
        routes.EventsController,
        routes.TokensController,
        routes.metrics,
        routes.events_socket,
        *sim_routes.HANDLERS,
        *cmdb_routes.HANDLERS,
        *itsm_routes.HANDLERS,
    ):
        registry.add(handler)


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    registry.add(
        "dcsim.started",
        description="an instance finished starting",
        data={"plugins": "names of the loaded plugins", "bus": "bus driver", "store": "store driver"},
    )
    from dcsim.cmdb.service import EVENT_TYPES as CMDB_EVENT_TYPES
    from dcsim.itsm.service import DRIFT_DETECTED
    from dcsim.itsm.service import EVENT_TYPES as ITSM_EVENT_TYPES
    from dcsim.sim.engine import EVENT_TYPES as SIM_EVENT_TYPES

    for event_type, (description, data) in (SIM_EVENT_TYPES | CMDB_EVENT_TYPES | ITSM_EVENT_TYPES).items():
        registry.add(event_type, description=description, data=data)
    if "drift.detected" not in registry:
        registry.add("drift.detected", description=DRIFT_DETECTED[0], data=DRIFT_DETECTED[1])


@hookimpl
def dcsim_sim_register_load_profiles(registry: LoadProfileRegistry) -> None:
    for profile in DEFAULT_PROFILES:
        registry.add(profile)


@hookimpl
def dcsim_cmdb_register_types(registry: CmdbTypeRegistry) -> None:
    for name, description in CI_TYPES.items():
        registry.add_ci_type(name, description)
    for name, (description, inverse) in RELATIONSHIP_TYPES.items():
        registry.add_relationship_type(name, description, inverse)


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


@hookimpl(trylast=True)
def dcsim_patch_compare_versions(os_family: str, installed: str, candidate: str) -> int:
    return compare_versions(installed, candidate)


@hookimpl(trylast=True)
def dcsim_drift_values_equal(field: str, desired: Any, actual: Any) -> bool:
    return bool(desired == actual)
