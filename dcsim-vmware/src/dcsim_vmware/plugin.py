"""Hook implementations of the `vmware` plugin, and nothing else.

This module is what the entry point `vmware` in the group `dcsim` names. Today it gives
vSphere VMs' nodes their ``sim.vmw.*`` labels and VMs created on vSphere clusters
VMware's MAC prefix; the vSphere API comes with an issue of its own. Heavy vendor
libraries are to be imported lazily, inside hook implementations, never at module level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim import hookimpl
from dcsim_vmware.settings import SECRET_SETTINGS as SECRET_SETTINGS

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.model import Check, Event
    from dcsim.registry import CommandRegistry, RouteRegistry, ServiceRegistry, SubscriberRegistry
    from dcsim.settings import Settings
    from dcsim.sim.kinds import KindRegistry
    from dcsim.sim.labels import NodeLabelRegistry
    from dcsim.sim.topology import Topology


@hookimpl
def dcsim_sim_register_kinds(registry: KindRegistry) -> None:
    from dcsim_vmware.model import KINDS, MAC_PREFIX, PLATFORM

    registry.add_all(KINDS)
    registry.add_platform(PLATFORM, mac_prefix=MAC_PREFIX)


@hookimpl
def dcsim_sim_seed_topology(topology: Topology, settings: Settings) -> None:
    from dcsim_vmware.sim_seed import seed_default, seed_vsphere

    if settings.sim_topology == "default":
        seed_default(topology)
    elif settings.sim_topology == "generated":
        seed_vsphere(topology)


@hookimpl
def dcsim_sim_register_node_labels(registry: NodeLabelRegistry) -> None:
    from dcsim_vmware.views import register_labels

    register_labels(registry)


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim_vmware.rest import HANDLERS

    for handler in HANDLERS:
        registry.add(handler)


@hookimpl
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    from dcsim_vmware.service import VmwareService
    from dcsim_vmware.settings import load_vmware_settings

    registry.add("vmware", VmwareService(load_vmware_settings(settings.plugin("vmware")), settings.data_dir))


@hookimpl
async def dcsim_startup(dcsim: DcSim) -> None:
    await dcsim.services["vmware"].start(dcsim)


@hookimpl
async def dcsim_shutdown(dcsim: DcSim) -> None:
    await dcsim.services["vmware"].stop()


@hookimpl
async def dcsim_readiness(dcsim: DcSim) -> list[Check]:
    return [dcsim.services["vmware"].readiness()]


@hookimpl
def dcsim_register_subscribers(registry: SubscriberRegistry) -> None:
    from dcsim_vmware.service import SYNC_EVENTS

    async def mirror(dcsim: DcSim, event: Event) -> None:
        await dcsim.services["vmware"].on_event(event)

    # Changes made through dc-sim (/sim, faults, other adapters) reach vCenter.
    registry.add("vmware-vcenter", mirror, types=SYNC_EVENTS)


@hookimpl
def dcsim_register_commands(registry: CommandRegistry) -> None:
    from dcsim_vmware.commands import vmware

    registry.add(vmware)
