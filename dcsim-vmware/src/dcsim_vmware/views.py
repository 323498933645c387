"""vSphere as core's other views see it: the ``sim.vmw.*`` labels of a VM's node
(cluster, host, datastore, host switch).

Inventory groups need nothing of vSphere's own: core's general rules give
``vmware_rhel`` / ``vmware_ubuntu`` (platform and OS family) and ``cluster_01`` (a
cluster's group without a doubled prefix), see specs/007-cmdb.md.
"""

from __future__ import annotations

from typing import Any

from dcsim.sim.labels import NodeLabelRegistry
from dcsim.sim.model import Cluster, Datastore, Host, Vm
from dcsim.sim.world import World
from dcsim_vmware.model import MAC_PREFIX, PLATFORM, datastore_name, switch_of


def vm_labels(world: World, owner: Any) -> dict[str, str]:
    """The ``sim.vmw.*`` labels of a vSphere VM's node (``{}`` for other owners):
    its cluster, host, the datastore of its first disk and the switch of its first NIC."""
    if not isinstance(owner, Vm) or owner.platform != PLATFORM:
        return {}
    host = world.get(Host, owner.host_id)
    labels = {"sim.vmw.cluster": world.get(Cluster, host.cluster_id).name, "sim.vmw.host": host.name}
    datastore_id = next((disk.datastore_id for disk in owner.disks if disk.datastore_id), None)
    datastore = world.find(Datastore, datastore_id) if datastore_id else None
    if datastore is not None:
        labels["sim.vmw.datastore"] = datastore_name(world, datastore)
    switch = switch_of(world, owner.nics[0].network_id) if owner.nics else None
    if switch is not None:
        labels["sim.vmw.vswitch"] = switch
    return labels


def register_labels(registry: NodeLabelRegistry) -> None:
    """vSphere's node labels."""
    registry.add(vm_labels)


__all__ = ["MAC_PREFIX", "PLATFORM", "register_labels", "vm_labels"]
