"""Hook implementations of the `vmware` plugin, and nothing else.

This module is what the entry point `vmware` in the group `dcsim` names. Today it gives
vSphere VMs' nodes their ``sim.vmw.*`` labels and VMs created on vSphere clusters
VMware's MAC prefix; the vSphere API comes with an issue of its own. Heavy vendor
libraries are to be imported lazily, inside hook implementations, never at module level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim import hookimpl

if TYPE_CHECKING:
    from dcsim.registry import RouteRegistry
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
