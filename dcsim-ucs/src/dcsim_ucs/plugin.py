"""Hook implementations of the `ucs` plugin, and nothing else.

This module is what the entry point ``ucs`` in the group ``dcsim`` names. Installing
dcsim-ucs adds UCS Manager's kinds (domains, fabric interconnects, service profile
templates and profiles) to the simulation, seeds ucs-domain-01 over the seed's
chassis, and serves the XML API at ``/nuova`` and the REST convenience API at
``/ucs/api/v1``, both views of the simulation's UCS domains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim import hookimpl
from dcsim_ucs.settings import SECRET_SETTINGS as SECRET_SETTINGS

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.cmdb.mapping import InventoryGroupRegistry, MappingRegistry
    from dcsim.drift.registry import DriftSourceRegistry
    from dcsim.model import Event
    from dcsim.registry import CmdbTypeRegistry, EventTypeRegistry, RouteRegistry, ServiceRegistry, SubscriberRegistry
    from dcsim.settings import Settings
    from dcsim.sim.faults import FaultRegistry
    from dcsim.sim.kinds import KindRegistry
    from dcsim.sim.labels import NodeLabelRegistry
    from dcsim.sim.topology import Topology


@hookimpl
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    from dcsim_ucs.manager import UcsManager
    from dcsim_ucs.settings import load_ucs_settings

    registry.add("ucs", UcsManager(load_ucs_settings(settings.plugin("ucs"))))


@hookimpl
async def dcsim_startup(dcsim: DcSim) -> None:
    await dcsim.services["ucs"].start(dcsim)


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim_ucs.nuova import nuova
    from dcsim_ucs.rest import UcsController

    registry.add(nuova)
    registry.add(UcsController)


@hookimpl
def dcsim_register_subscribers(registry: SubscriberRegistry) -> None:
    async def forget(dcsim: DcSim, event: Event) -> None:
        if event.type == "service_profile.deleted":
            await dcsim.services["ucs"].forget_profile(event.data["service_profile"])
        else:
            await dcsim.services["ucs"].forget_binding(event.data["id"])

    # However a profile or its binding goes (XML, REST, the engine), what UCS stored about it goes too.
    registry.add("ucs-profile-cleanup", forget, types=("service_profile.deleted", "service_profile.disassociated"))


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    from dcsim_ucs.manager import EVENT_TYPES
    from dcsim_ucs.profiles import EVENT_TYPES as PROFILE_EVENT_TYPES

    for event_type, (description, data) in (PROFILE_EVENT_TYPES | EVENT_TYPES).items():
        registry.add(event_type, description=description, data=data)


@hookimpl
def dcsim_sim_register_kinds(registry: KindRegistry) -> None:
    from dcsim_ucs.model import KINDS, MAC_PREFIX, PLATFORM

    registry.add_all(KINDS)
    registry.add_platform(PLATFORM, mac_prefix=MAC_PREFIX)


@hookimpl
def dcsim_sim_register_fault_kinds(registry: FaultRegistry) -> None:
    from dcsim_ucs.faults import register_faults

    register_faults(registry)


@hookimpl
def dcsim_sim_register_node_labels(registry: NodeLabelRegistry) -> None:
    from dcsim_ucs.views import register_labels

    register_labels(registry)


@hookimpl
def dcsim_sim_seed_topology(topology: Topology, settings: Settings) -> None:
    from dcsim_ucs.seed import seed_default, seed_generated

    if settings.sim_topology == "default":
        seed_default(topology)
    elif settings.sim_topology == "generated":
        seed_generated(topology)


@hookimpl
def dcsim_cmdb_register_types(registry: CmdbTypeRegistry) -> None:
    registry.add_ci_type("service_profile", "a UCS service profile")


@hookimpl
def dcsim_cmdb_register_mappings(registry: MappingRegistry) -> None:
    from dcsim_ucs.views import register_mappings

    register_mappings(registry)


@hookimpl
def dcsim_cmdb_register_inventory_groups(registry: InventoryGroupRegistry) -> None:
    from dcsim_ucs.views import register_groups

    register_groups(registry)


@hookimpl
def dcsim_drift_register_sources(registry: DriftSourceRegistry) -> None:
    from dcsim_ucs.drift import register_firmware_source

    register_firmware_source(registry)
