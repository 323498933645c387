"""The ``sim`` plugin: the simulation engine as a service, its routes, seed and metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookimpl
from dcsim.model import Check
from dcsim.registry import EventTypeRegistry, LoadProfileRegistry, RouteRegistry, ServiceRegistry
from dcsim.settings import Settings
from dcsim.sim.profiles import DEFAULT_PROFILES

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.sim.faults import FaultRegistry
    from dcsim.sim.kinds import KindRegistry
    from dcsim.sim.labels import NodeLabelRegistry
    from dcsim.sim.topology import Topology


@hookimpl
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    from dcsim.sim.engine import Simulation

    registry.add("sim", Simulation(settings))


# tryfirst: the simulation runs before any other plugin starts and (shut-downs being
# reversed) stops after every other plugin has.
@hookimpl(tryfirst=True)
async def dcsim_startup(dcsim: DcSim) -> None:
    from dcsim.sim.metrics import SimMetrics

    await dcsim.sim.start(dcsim)
    dcsim.sim.collector = SimMetrics(dcsim.sim, seed=dcsim.settings.sim_seed)
    dcsim.metrics.register(dcsim.sim.collector)


@hookimpl(tryfirst=True)
async def dcsim_shutdown(dcsim: DcSim) -> None:
    if dcsim.sim.collector is not None:
        # A restarted instance registers a new one.
        dcsim.metrics.unregister(dcsim.sim.collector)
        dcsim.sim.collector = None
    await dcsim.sim.close()


@hookimpl
async def dcsim_readiness(dcsim: DcSim) -> list[Check]:
    nodes = dcsim.sim.nodes
    try:
        await nodes.ping()
    except Exception as exc:
        return [Check("nodes", False, f"{nodes.name}: {exc}")]
    return [Check("nodes", True, nodes.name)]


@hookimpl(tryfirst=True)
def dcsim_sim_seed_topology(topology: Topology, settings: Settings) -> None:
    from dcsim.sim.seed import build_default

    if settings.sim_topology == "default":
        build_default(topology)


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim.sim.metrics_routes import MetricsHistoryController
    from dcsim.sim.routes import HANDLERS

    registry.add_all(HANDLERS)
    registry.add(MetricsHistoryController)


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    from dcsim.sim.engine import EVENT_TYPES

    registry.add_catalogue(EVENT_TYPES)


@hookimpl
def dcsim_sim_register_load_profiles(registry: LoadProfileRegistry) -> None:
    for profile in DEFAULT_PROFILES:
        registry.add(profile)


@hookimpl
def dcsim_sim_register_kinds(registry: KindRegistry) -> None:
    # Core's kinds are in every KindRegistry from the start (a World needs them without
    # an instance); nothing more to add.
    return None


@hookimpl
def dcsim_sim_register_fault_kinds(registry: FaultRegistry) -> None:
    from dcsim.sim.core_faults import register_core_faults

    register_core_faults(registry)


@hookimpl
def dcsim_sim_register_node_labels(registry: NodeLabelRegistry) -> None:
    # Core's labels are built in (dcsim.sim.labels.core_labels); vendors add theirs.
    return None
