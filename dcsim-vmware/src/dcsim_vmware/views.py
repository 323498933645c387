"""vSphere as core's other views see it: the ``sim.vmw.cluster`` and ``sim.vmw.host``
labels of a VM's node, and the MAC prefix of VMs' NICs."""

from __future__ import annotations

from typing import Any

from dcsim.sim.labels import NodeLabelRegistry
from dcsim.sim.model import Cluster, Host, Vm
from dcsim.sim.world import World

#: The platform label of vSphere sites, and VMware's OUI for VM NICs.
PLATFORM, MAC_PREFIX = "vmware", "00:50:56"


def vm_labels(world: World, owner: Any) -> dict[str, str]:
    """The ``sim.vmw.*`` labels of a vSphere VM's node (``{}`` for other owners)."""
    if not isinstance(owner, Vm) or owner.platform != PLATFORM:
        return {}
    host = world.get(Host, owner.host_id)
    return {"sim.vmw.cluster": world.get(Cluster, host.cluster_id).name, "sim.vmw.host": host.name}


def register_labels(registry: NodeLabelRegistry) -> None:
    """vSphere's node labels."""
    registry.add(vm_labels)


__all__ = ["MAC_PREFIX", "PLATFORM", "register_labels", "vm_labels"]
