"""The ``cmdb`` plugin: the CMDB service mirroring the simulation, its vocabulary and routes.

Without the ``sim`` plugin the CMDB still serves what its backend holds; it has nothing
to mirror, so it neither bootstraps nor syncs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from dcsim.cmdb.types import CI_TYPES, RELATIONSHIP_TYPES
from dcsim.hooks import hookimpl
from dcsim.model import Check, Event
from dcsim.registry import CmdbTypeRegistry, EventTypeRegistry, RouteRegistry, ServiceRegistry, SubscriberRegistry
from dcsim.settings import Settings

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.cmdb.mapping import InventoryGroupRegistry, MappingRegistry
    from dcsim.cmdb.service import Cmdb

log = structlog.get_logger(__name__)


def _cmdb(dcsim: DcSim) -> Cmdb:
    from dcsim.cmdb.service import Cmdb

    return dcsim.services.get(Cmdb)


def _has_simulation(dcsim: DcSim) -> bool:
    from dcsim.sim.engine import Simulation

    return dcsim.services.find(Simulation) is not None


@hookimpl
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    from dcsim.cmdb.service import Cmdb

    registry.add("cmdb", Cmdb(settings))


# tryfirst, registered before ``sim``: starts right after the simulation it mirrors.
@hookimpl(tryfirst=True)
async def dcsim_startup(dcsim: DcSim) -> None:
    cmdb = _cmdb(dcsim)
    if _has_simulation(dcsim):
        await cmdb.start(dcsim)
    else:
        log.warning("cmdb.no_simulation", detail="the sim plugin is off: the CMDB mirrors nothing")
        await cmdb.backend.start(dcsim)


@hookimpl(tryfirst=True)
async def dcsim_shutdown(dcsim: DcSim) -> None:
    await _cmdb(dcsim).close()


@hookimpl
async def dcsim_readiness(dcsim: DcSim) -> list[Check]:
    backend = _cmdb(dcsim).backend
    try:
        await backend.ping()
    except Exception as exc:
        return [Check("cmdb", False, f"{backend.name}: {exc}")]
    return [Check("cmdb", True, backend.name)]


@hookimpl
def dcsim_register_subscribers(registry: SubscriberRegistry) -> None:
    from dcsim.cmdb.service import SYNC_EVENT_TYPES

    async def sync_cmdb(dcsim: DcSim, event: Event) -> None:
        await _cmdb(dcsim).on_event(dcsim, event)

    registry.add("cmdb-sync", sync_cmdb, types=SYNC_EVENT_TYPES)


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    from dcsim.cmdb.service import EVENT_TYPES

    registry.add_catalogue(EVENT_TYPES)


@hookimpl
def dcsim_cmdb_register_types(registry: CmdbTypeRegistry) -> None:
    for name, description in CI_TYPES.items():
        registry.add_ci_type(name, description)
    for name, (description, inverse) in RELATIONSHIP_TYPES.items():
        registry.add_relationship_type(name, description, inverse)


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim.cmdb.routes import HANDLERS

    registry.add_all(HANDLERS)


@hookimpl
def dcsim_cmdb_register_mappings(registry: MappingRegistry) -> None:
    from dcsim.cmdb.mapping import register_core_mappings

    register_core_mappings(registry)


@hookimpl
def dcsim_cmdb_register_inventory_groups(registry: InventoryGroupRegistry) -> None:
    from dcsim.cmdb.mapping import register_core_groups

    register_core_groups(registry)
