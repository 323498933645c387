"""How the simulated world maps onto CIs and relationships (what sync makes true),
and which Ansible inventory groups a node's CI joins.

One mapper per simulated kind; each returns the CI spec of an object and the
relationships it is the source of, by simulated ids. Sync resolves ids to CIs. Core
maps its own kinds; plugins add theirs, and amend core's, through
``dcsim_cmdb_register_mappings``; inventory groups come from
``dcsim_cmdb_register_inventory_groups``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from dcsim.cmdb.model import CiSpec, RelationshipSpec
from dcsim.errors import ConfigError
from dcsim.sim.model import Blade, Chassis, Cluster, Datacenter, Datastore, Host, Network, Project, Vm
from dcsim.sim.world import World

if TYPE_CHECKING:
    from dcsim.cmdb.model import Ci
    from dcsim.model import Event

Mapped = tuple[CiSpec, list[RelationshipSpec]]
Mapper = Callable[[World, Any], Mapped]
#: ``amendment(world, obj, spec, relationships)``: adds to the CI of ``obj`` in place.
Amendment = Callable[[World, Any, CiSpec, list[RelationshipSpec]], None]
#: ``related(event)``: more ``(kind, id)`` pairs to sync for an event than its subject.
Related = Callable[["Event"], Iterable[tuple[str, str]]]
#: ``rule(ci)``: names of the inventory groups the node of ``ci`` joins.
GroupRule = Callable[["Ci"], Iterable[str]]


def application_source_id(name: str) -> str:
    """The pseudo source id of an application CI (applications are not simulated objects)."""
    return f"application:{name}"


def map_datacenter(world: World, dc: Datacenter) -> Mapped:
    spec = CiSpec(type="datacenter", name=dc.name, source_id=dc.id, attributes={}, tags={"platform": dc.platform})
    return spec, []


def map_cluster(world: World, cluster: Cluster) -> Mapped:
    spec = CiSpec(
        type="cluster",
        name=cluster.name,
        source_id=cluster.id,
        attributes={"ha_enabled": cluster.ha_enabled, "kind": "cluster"},
        tags={"platform": cluster.platform},
    )
    return spec, [RelationshipSpec(type="hosted_in", source_id=cluster.id, target_id=cluster.datacenter_id)]


def map_chassis(world: World, chassis: Chassis) -> Mapped:
    spec = CiSpec(
        type="cluster",
        name=chassis.name,
        source_id=chassis.id,
        attributes={"kind": "chassis", "model": chassis.model, "serial": chassis.serial, "slots": chassis.slots},
        tags={"platform": chassis.platform},
    )
    return spec, [RelationshipSpec(type="hosted_in", source_id=chassis.id, target_id=chassis.datacenter_id)]


def map_host(world: World, host: Host) -> Mapped:
    cluster = world.get(Cluster, host.cluster_id)
    attributes: dict[str, Any] = {
        "cpu_cores": host.cpu_cores,
        "memory_mb": host.memory_mb,
        "power_state": host.power_state.value,
        "status": host.status.value,
        "cluster": cluster.name,
    }
    relationships = [RelationshipSpec(type="member_of", source_id=host.id, target_id=cluster.id)]
    if host.blade_id:
        attributes["blade"] = world.get(Blade, host.blade_id).name
        relationships.append(RelationshipSpec(type="runs_on", source_id=host.id, target_id=host.blade_id))
    spec = CiSpec(type="host", name=host.name, source_id=host.id, attributes=attributes,
                  tags={"platform": cluster.platform, "role": "hypervisor"})  # fmt: skip
    return spec, relationships


def map_blade(world: World, blade: Blade) -> Mapped:
    chassis = world.get(Chassis, blade.chassis_id)
    attributes: dict[str, Any] = {
        "kind": "blade",
        "model": blade.model,
        "serial": blade.serial,
        "chassis": chassis.name,
        "slot": blade.slot,
        "cpu": blade.cpu,
        "memory_mb": blade.memory_mb,
        "firmware": blade.firmware,
        "power_state": blade.power_state.value,
        "status": blade.status.value,
    }
    tags = {"platform": chassis.platform, "role": "bare_metal" if blade.node else "hypervisor"}
    if blade.node:
        attributes |= node_attributes(blade.node)
        tags |= {"env": blade.node.env, "os": blade.node.guest_os.value}
    relationships = [RelationshipSpec(type="member_of", source_id=blade.id, target_id=chassis.id)]
    return CiSpec(type="host", name=blade.name, source_id=blade.id, attributes=attributes, tags=tags), relationships


def map_network(world: World, network: Network) -> Mapped:
    spec = CiSpec(
        type="network",
        name=network.name,
        source_id=network.id,
        attributes={"vlan": network.vlan, "cidr": network.cidr},
        tags={"platform": network.platform},
    )
    return spec, [RelationshipSpec(type="hosted_in", source_id=network.id, target_id=network.datacenter_id)]


def map_datastore(world: World, datastore: Datastore) -> Mapped:
    dc = world.get(Datacenter, datastore.datacenter_id)
    spec = CiSpec(
        type="storage",
        name=datastore.name,
        source_id=datastore.id,
        attributes={"kind": "datastore", "capacity_gb": datastore.capacity_gb},
        tags={"platform": dc.platform},
    )
    return spec, [RelationshipSpec(type="hosted_in", source_id=datastore.id, target_id=datastore.datacenter_id)]


def map_vm(world: World, vm: Vm) -> Mapped:
    host = world.get(Host, vm.host_id)
    cluster = world.get(Cluster, host.cluster_id)
    attributes: dict[str, Any] = {
        "cpu": vm.cpu,
        "memory_mb": vm.memory_mb,
        "power_state": vm.power_state.value,
        "host": host.name,
        "cluster": cluster.name,
        "ip": vm.nics[0].ip if vm.nics else None,
        "mac": vm.nics[0].mac if vm.nics else None,
    }
    if vm.project_id or vm.flavor or vm.image:
        project = world.find(Project, vm.project_id or "")
        attributes |= {"project": project.name if project else None, "flavor": vm.flavor, "image": vm.image}
    if vm.node:
        attributes |= node_attributes(vm.node)
    tags = {k: v for k, v in vm.tags.items() if k in {"env", "os", "platform", "role", "owner", "tier"}}
    relationships = [RelationshipSpec(type="runs_on", source_id=vm.id, target_id=host.id)]
    relationships += [
        RelationshipSpec(type="connected_to", source_id=vm.id, target_id=nic.network_id) for nic in vm.nics
    ]
    datastores = sorted({disk.datastore_id for disk in vm.disks if disk.datastore_id})
    relationships += [RelationshipSpec(type="depends_on", source_id=vm.id, target_id=ds) for ds in datastores]
    relationships += [
        RelationshipSpec(type="runs_on", source_id=application_source_id(app), target_id=vm.id)
        for app in vm.applications
    ]
    return CiSpec(type="vm", name=vm.name, source_id=vm.id, attributes=attributes, tags=tags), relationships


def node_attributes(node: Any) -> dict[str, Any]:
    """The attributes of a CI whose object has a node: how Ansible reaches it."""
    return {
        "node": node.name,
        "guest_os": node.guest_os.value,
        "ansible_host": "127.0.0.1",
        "ansible_port": node.ssh_port,
        "ansible_user": node.ansible_user,
    }


class MappingRegistry:
    """Mappers of kinds onto CIs; handed to ``dcsim_cmdb_register_mappings``."""

    def __init__(self) -> None:
        self._mappers: dict[type, Mapper] = {}
        self._amendments: dict[type, list[Amendment]] = {}
        self._sync_patterns: list[str] = []
        self._related: list[Related] = []

    def add(self, cls: type, mapper: Mapper) -> None:
        """Map objects of class ``cls`` with ``mapper`` (kinds are mapped in registration order)."""
        if cls in self._mappers:
            raise ConfigError(f"{cls.__qualname__} is mapped twice")
        self._mappers[cls] = mapper

    def checkpoint(self) -> object:
        """What the registry holds now (``PluginHost.register_each`` forgets a failed plugin's additions)."""
        amendments = {cls: len(found) for cls, found in self._amendments.items()}
        return (list(self._mappers), amendments, len(self._sync_patterns), len(self._related))

    def rollback(self, checkpoint: object) -> None:
        """Forget whatever was added since ``checkpoint``."""
        assert isinstance(checkpoint, tuple)
        mappers, amendments, patterns, related = checkpoint
        for cls in [c for c in self._mappers if c not in mappers]:
            del self._mappers[cls]
        for cls, found in self._amendments.items():
            del found[amendments.get(cls, 0) :]
        del self._sync_patterns[patterns:]
        del self._related[related:]

    def amend(self, cls: type, amendment: Amendment) -> None:
        """Let ``amendment`` add to the CI and relationships of every ``cls`` object."""
        self._amendments.setdefault(cls, []).append(amendment)

    def add_sync_events(self, patterns: Iterable[str], related: Related | None = None) -> None:
        """Events matching ``patterns`` change CIs: their subject (and ``related(event)``) is synced."""
        self._sync_patterns.extend(patterns)
        if related is not None:
            self._related.append(related)

    def wants(self, event_type: str) -> bool:
        """True when an event of ``event_type`` changes CIs."""
        return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in self._sync_patterns)

    def related(self, event: Event) -> list[tuple[str, str]]:
        """The ``(kind, id)`` pairs to sync for ``event`` besides its subject."""
        return [pair for related in self._related for pair in related(event)]

    def map(self, world: World, obj: Any) -> Mapped | None:
        """The mapping of one simulated object, None for kinds the CMDB does not hold."""
        mapper = self._mappers.get(type(obj))
        if mapper is None:
            return None
        spec, relationships = mapper(world, obj)
        for amendment in self._amendments.get(type(obj), ()):
            amendment(world, obj, spec, relationships)
        return spec, relationships

    def desired_state(self, world: World) -> tuple[list[CiSpec], list[RelationshipSpec]]:
        """Every CI and relationship the world implies."""
        specs: list[CiSpec] = []
        relationships: list[RelationshipSpec] = []
        applications: set[str] = set()
        for cls in self._mappers:
            if cls not in world.kinds_registry.classes():
                continue  # a kind whose plugin is not installed
            objects: list[Any] = world.all(cls)
            for obj in objects:
                mapped = self.map(world, obj)
                assert mapped is not None
                specs.append(mapped[0])
                relationships.extend(mapped[1])
                if isinstance(obj, Vm):
                    applications.update(obj.applications)
        specs += [
            CiSpec(type="application", name=name, source_id=application_source_id(name), attributes={}, tags={})
            for name in sorted(applications)
        ]
        return specs, relationships


def register_core_mappings(registry: MappingRegistry) -> None:
    """Core's mappers, parents before children, and the simulation events that change CIs."""
    for cls, mapper in (
        (Datacenter, map_datacenter),
        (Cluster, map_cluster),
        (Chassis, map_chassis),
        (Blade, map_blade),
        (Host, map_host),
        (Network, map_network),
        (Datastore, map_datastore),
        (Vm, map_vm),
    ):
        registry.add(cls, mapper)
    registry.add_sync_events(("vm.*", "host.*", "network.changed", "fault.*", "blade.*"))


class InventoryGroupRegistry:
    """Rules that put nodes' CIs into Ansible inventory groups; handed to ``dcsim_cmdb_register_inventory_groups``."""

    def __init__(self) -> None:
        self.rules: list[GroupRule] = []
        self._platform_groups: dict[str, str] = {}

    def add(self, rule: GroupRule) -> None:
        """Add ``rule``: ``rule(ci)`` names the groups the node of ``ci`` joins."""
        self.rules.append(rule)

    def checkpoint(self) -> object:
        """What the registry holds now (``PluginHost.register_each`` forgets a failed plugin's additions)."""
        return (len(self.rules), list(self._platform_groups))

    def rollback(self, checkpoint: object) -> None:
        """Forget whatever was added since ``checkpoint``."""
        assert isinstance(checkpoint, tuple)
        del self.rules[checkpoint[0] :]
        for platform in [p for p in self._platform_groups if p not in checkpoint[1]]:
            del self._platform_groups[platform]

    def name_platform(self, platform: str, group: str) -> None:
        """Nodes whose ``platform`` tag is ``platform`` join ``group`` (instead of a group named after it)."""
        if platform in self._platform_groups:
            raise ConfigError(f"the inventory group of platform {platform!r} is named twice")
        self._platform_groups[platform] = group

    def platform_group(self, platform: str | None) -> str:
        """The group of nodes of ``platform``; ``other`` for nodes without one."""
        if not platform:
            return "other"
        return self._platform_groups.get(platform, platform)

    def groups(self, ci: Ci) -> list[str]:
        """Every group the node of ``ci`` joins."""
        return [group for rule in self.rules for group in rule(ci)]


def group_name(prefix: str, value: str) -> str:
    """The inventory group ``<prefix>_<value>`` in Ansible's alphabet, without doubling a
    prefix the value already has: cluster ``cluster-01`` joins ``cluster_01``, cluster
    ``zone-a`` joins ``cluster_zone_a`` (the rule every plugin's prefixed groups follow)."""
    name = re.sub(r"[^a-z0-9_]", "_", str(value).lower())
    return name if name.startswith(f"{prefix}_") else f"{prefix}_{name}"


def register_core_groups(registry: InventoryGroupRegistry) -> None:
    """Core's inventory groups: every node, its platform, guest OS, platform and guest OS
    together (``<platform>_rhel``), env, cluster, project, chassis."""

    def core_groups(ci: Ci) -> list[str]:
        attributes = ci.attributes
        guest = attributes.get("guest_os", "")
        family = "rhel" if guest.startswith("rhel") else "ubuntu" if guest.startswith("ubuntu") else None
        platform = ci.tags.get("platform")
        groups = ["datacenter_nodes", registry.platform_group(platform), f"{family or 'other'}_nodes"]
        if platform and family:
            groups.append(group_name(platform, family))
        if "env" in ci.tags:
            groups.append(f"env_{ci.tags['env']}")
        for key in ("cluster", "project", "chassis"):
            if attributes.get(key):
                groups.append(group_name(key, attributes[key]))
        return groups

    registry.add(core_groups)


__all__ = [
    "InventoryGroupRegistry",
    "MappingRegistry",
    "application_source_id",
    "group_name",
    "node_attributes",
    "register_core_groups",
    "register_core_mappings",
]
