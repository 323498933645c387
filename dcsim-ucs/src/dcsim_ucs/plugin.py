"""Hook implementations of the `ucs` plugin, and nothing else.

This module is what the entry point ``ucs`` in the group ``dcsim`` names. Installing
dcsim-ucs adds UCS Manager's XML API at ``/nuova`` and the REST convenience API at
``/ucs/api/v1``, both views of the simulation's UCS domains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim import hookimpl

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.model import Event
    from dcsim.registry import EventTypeRegistry, RouteRegistry, ServiceRegistry, SubscriberRegistry
    from dcsim.settings import Settings


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

    for event_type, (description, data) in EVENT_TYPES.items():
        registry.add(event_type, description=description, data=data)
