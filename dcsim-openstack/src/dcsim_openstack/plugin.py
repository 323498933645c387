"""Hook implementations of the `openstack` plugin, and nothing else.

This module is what the entry point `openstack` in the group `dcsim` names. Installing
dcsim-openstack adds OpenStack's own kinds (Keystone's users, roles and role assignments;
keypairs, routers, security groups) to the simulation, the seed's router and security
group, the instances' ``sim.os.*`` node labels and the CMDB's availability zones, and
serves Keystone, Nova, Neutron, Cinder and Glance under ``/identity``, ``/compute``,
``/network``, ``/volume`` and ``/image`` (see :mod:`dcsim_openstack.service`). Heavy
vendor libraries are imported lazily, inside hook implementations, never at module level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim import hookimpl
from dcsim_openstack.settings import SECRET_SETTINGS as SECRET_SETTINGS

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.cmdb.mapping import MappingRegistry
    from dcsim.registry import RouteRegistry, ServiceRegistry, SubscriberRegistry
    from dcsim.settings import Settings
    from dcsim.sim.kinds import KindRegistry
    from dcsim.sim.labels import NodeLabelRegistry
    from dcsim.sim.topology import Topology


@hookimpl
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    from dcsim_openstack.identity.keystone import Keystone
    from dcsim_openstack.settings import load_openstack_settings

    registry.add("openstack.keystone", Keystone(load_openstack_settings(settings.plugin("openstack"))))


@hookimpl
async def dcsim_startup(dcsim: DcSim) -> None:
    from dcsim_openstack.compute.servers import resume_boots
    from dcsim_openstack.identity.keystone import Keystone

    await dcsim.services.get(Keystone).start(dcsim)
    resume_boots(dcsim)


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from importlib import import_module

    from dcsim_openstack.service import SERVICES, mount

    # Each service's route modules (each has HANDLERS, paths under the version root).
    modules: dict[str, list[str]] = {
        "identity": ["dcsim_openstack.identity.routes_auth", "dcsim_openstack.identity.routes"],
        "compute": [
            "dcsim_openstack.compute.routes",
            "dcsim_openstack.compute.resources",
            "dcsim_openstack.compute.attachments",
        ],
        "network": ["dcsim_openstack.network.routes"],
        "volume": ["dcsim_openstack.volume.routes"],
        "image": ["dcsim_openstack.image.routes"],
    }
    for name, service in SERVICES.items():
        mount(registry, service, [h for module in modules[name] for h in import_module(module).HANDLERS])


@hookimpl
def dcsim_register_subscribers(registry: SubscriberRegistry) -> None:
    from dcsim_openstack.compute.servers import on_vm_destroyed as server_destroyed
    from dcsim_openstack.network.ports import on_vm_destroyed

    # However a server goes (Nova, /sim), the ports made for it go too.
    registry.add("openstack-port-cleanup", on_vm_destroyed, types=("vm.destroyed",))
    # ... and Nova marks it deleted, its volumes detached.
    registry.add("openstack-server-cleanup", server_destroyed, types=("vm.destroyed",))


@hookimpl
def dcsim_sim_register_kinds(registry: KindRegistry) -> None:
    from dcsim_openstack.compute.model import KINDS as COMPUTE_KINDS
    from dcsim_openstack.identity.model import IDENTITY_KINDS
    from dcsim_openstack.image.model import IMAGE_KINDS
    from dcsim_openstack.model import KINDS, MAC_PREFIX, PLATFORM
    from dcsim_openstack.network.model import KINDS as NETWORK_KINDS
    from dcsim_openstack.volume.model import KINDS as VOLUME_KINDS

    # OpenStack's names are not unique (every project has a security group "default").
    registry.add_all(KINDS | NETWORK_KINDS | COMPUTE_KINDS | VOLUME_KINDS | IMAGE_KINDS, unique_names=False)
    registry.add_all(IDENTITY_KINDS)
    registry.add_platform(PLATFORM, mac_prefix=MAC_PREFIX)


@hookimpl
def dcsim_sim_seed_topology(topology: Topology, settings: Settings) -> None:
    from dcsim_openstack.views import seed_default
    from dcsim_openstack.volume.seed import seed_volume_types

    if settings.sim_topology == "default":
        seed_default(topology)
    seed_volume_types(topology)


@hookimpl
def dcsim_sim_register_node_labels(registry: NodeLabelRegistry) -> None:
    from dcsim_openstack.views import register_labels

    register_labels(registry)


@hookimpl
def dcsim_cmdb_register_mappings(registry: MappingRegistry) -> None:
    from dcsim_openstack.views import register_mappings

    register_mappings(registry)
