"""OpenStack as core's other views see it: the seed's router and security group, node
labels (``sim.type=instance``, ``sim.os.project``, ``.flavor``, ``.az``, ``.network``,
``.image``, ``.keypair``) and the CMDB's
reading of a cloud cluster as an availability zone."""

from __future__ import annotations

from typing import Any

from dcsim.cmdb.mapping import MappingRegistry
from dcsim.cmdb.model import CiSpec, RelationshipSpec
from dcsim.sim.labels import NodeLabelRegistry
from dcsim.sim.model import Cluster, Host, Network, Project, Subnet, Vm
from dcsim.sim.topology import Topology
from dcsim.sim.world import World
from dcsim_openstack.compute.model import ServerRecord
from dcsim_openstack.model import PLATFORM, Router, SecurityGroup


def seed_default(topology: Topology) -> None:
    """router1 on private-subnet and the default security group of project demo."""
    world = topology.world
    project, subnet = world.find(Project, "demo"), world.find(Subnet, "private-subnet")
    if project is None or subnet is None:
        return
    t = topology
    t.add(Router(id=t.id("router", "router1"), name="router1", project_id=project.id, subnet_ids=[subnet.id]))
    t.add(
        SecurityGroup(
            id=t.id("security_group", "default"), name="default", project_id=project.id,
            rules=[{"direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
                    "remote_ip_prefix": "0.0.0.0/0"}],
        )
    )  # fmt: skip
    from dcsim_openstack.network.seed import seed_networks

    seed_networks(topology)


def instance_labels(world: World, owner: Any) -> dict[str, str]:
    """The ``sim.os.*`` labels of an instance's node (``{}`` for other owners)."""
    if not isinstance(owner, Vm) or owner.platform != PLATFORM:
        return {}
    cluster = world.get(Cluster, world.get(Host, owner.host_id).cluster_id)
    project = world.find(Project, owner.project_id or "")
    network = world.find(Network, owner.nics[0].network_id) if owner.nics else None
    record = world.find(ServerRecord, owner.id)
    return {
        "sim.type": "instance",
        "sim.os.project": project.name if project else "",
        "sim.os.flavor": owner.flavor or "",
        "sim.os.az": cluster.name,
        "sim.os.network": network.name if network else "",
        "sim.os.image": owner.image or "",
        "sim.os.keypair": (record.key_name or "") if record else "",
    }


def register_labels(registry: NodeLabelRegistry) -> None:
    """OpenStack's node labels."""
    registry.add(instance_labels)


def _amend_cluster(world: World, cluster: Cluster, spec: CiSpec, relationships: list[RelationshipSpec]) -> None:
    if cluster.platform == PLATFORM:
        spec.attributes["kind"] = "availability_zone"


def register_mappings(registry: MappingRegistry) -> None:
    """A cloud cluster's CI is an availability zone."""
    registry.amend(Cluster, _amend_cluster)


__all__ = ["instance_labels", "register_labels", "register_mappings", "seed_default"]
