"""Hook implementations of the `openstack` plugin, and nothing else.

This module is what the entry point `openstack` in the group `dcsim` names. Today it adds
OpenStack's own kinds (keypairs, routers, security groups) to the simulation, the seed's
router and security group, the instances' ``sim.os.*`` node labels and the CMDB's
availability zones; the Keystone, Nova, Neutron, Cinder and Glance APIs come with
issue #13. Heavy vendor libraries are to be imported lazily, inside hook
implementations, never at module level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim import hookimpl

if TYPE_CHECKING:
    from dcsim.cmdb.mapping import MappingRegistry
    from dcsim.settings import Settings
    from dcsim.sim.kinds import KindRegistry
    from dcsim.sim.labels import NodeLabelRegistry
    from dcsim.sim.topology import Topology


@hookimpl
def dcsim_sim_register_kinds(registry: KindRegistry) -> None:
    from dcsim_openstack.model import KINDS, MAC_PREFIX, PLATFORM
    from dcsim_openstack.network.model import KINDS as NETWORK_KINDS

    # OpenStack's names are not unique (every project has a security group "default").
    registry.add_all(KINDS | NETWORK_KINDS, unique_names=False)
    registry.add_platform(PLATFORM, mac_prefix=MAC_PREFIX)


@hookimpl
def dcsim_sim_seed_topology(topology: Topology, settings: Settings) -> None:
    from dcsim_openstack.views import seed_default

    if settings.sim_topology == "default":
        seed_default(topology)


@hookimpl
def dcsim_sim_register_node_labels(registry: NodeLabelRegistry) -> None:
    from dcsim_openstack.views import register_labels

    register_labels(registry)


@hookimpl
def dcsim_cmdb_register_mappings(registry: MappingRegistry) -> None:
    from dcsim_openstack.views import register_mappings

    register_mappings(registry)
