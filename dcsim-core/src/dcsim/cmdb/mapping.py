"""How the simulated world maps onto CIs and relationships (what sync makes true).

One function per simulated kind; each returns the CI spec of an object and the
relationships it is the source of, by simulated ids. Sync resolves ids to CIs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dcsim.cmdb.model import CiSpec, RelationshipSpec
from dcsim.sim.model import (
    Blade,
    Chassis,
    Cluster,
    Datacenter,
    Datastore,
    Host,
    Network,
    Platform,
    Project,
    ServiceProfile,
    ServiceProfileTemplate,
    UcsDomain,
    Vm,
)
from dcsim.sim.world import World

Mapped = tuple[CiSpec, list[RelationshipSpec]]


def application_source_id(name: str) -> str:
    """The pseudo source id of an application CI (applications are not simulated objects)."""
    return f"application:{name}"


def map_datacenter(world: World, dc: Datacenter) -> Mapped:
    spec = CiSpec(type="datacenter", name=dc.name, source_id=dc.id, attributes={}, tags={"platform": dc.platform.value})
    return spec, []


def map_cluster(world: World, cluster: Cluster) -> Mapped:
    spec = CiSpec(
        type="cluster",
        name=cluster.name,
        source_id=cluster.id,
        attributes={
            "ha_enabled": cluster.ha_enabled,
            "kind": "availability_zone" if cluster.platform is Platform.OPENSTACK else "cluster",
        },
        tags={"platform": cluster.platform.value},
    )
    return spec, [RelationshipSpec(type="hosted_in", source_id=cluster.id, target_id=cluster.datacenter_id)]


def map_chassis(world: World, chassis: Chassis) -> Mapped:
    domain = world.get(UcsDomain, chassis.domain_id)
    spec = CiSpec(
        type="cluster",
        name=chassis.name,
        source_id=chassis.id,
        attributes={"kind": "ucs_chassis", "model": chassis.model, "serial": chassis.serial, "slots": chassis.slots,
                    "domain": domain.name, "firmware": domain.firmware},
        tags={"platform": Platform.UCS.value},
    )  # fmt: skip
    return spec, [RelationshipSpec(type="hosted_in", source_id=chassis.id, target_id=domain.datacenter_id)]


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
                  tags={"platform": cluster.platform.value, "role": "hypervisor"})  # fmt: skip
    return spec, relationships


def map_blade(world: World, blade: Blade) -> Mapped:
    chassis = world.get(Chassis, blade.chassis_id)
    profile = world.find(ServiceProfile, blade.service_profile_id or "")
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
        "service_profile": profile.name if profile else None,
    }
    tags = {"platform": Platform.UCS.value, "role": "bare_metal" if blade.node else "hypervisor"}
    if profile and profile.template_id:
        attributes["service_profile_template"] = world.get(ServiceProfileTemplate, profile.template_id).name
    if blade.node:
        attributes |= _node_attributes(blade.node)
        tags |= {"env": blade.node.env, "os": blade.node.guest_os.value}
    relationships = [RelationshipSpec(type="member_of", source_id=blade.id, target_id=chassis.id)]
    return CiSpec(type="host", name=blade.name, source_id=blade.id, attributes=attributes, tags=tags), relationships


def map_service_profile(world: World, profile: ServiceProfile) -> Mapped:
    template = world.find(ServiceProfileTemplate, profile.template_id or "")
    attributes = {
        "org": profile.org,
        "template": template.name if template else None,
        "blade": world.get(Blade, profile.blade_id).name if profile.blade_id else None,
        "power": profile.power,
        "firmware_policy": profile.firmware_policy,
        "macs": list(profile.macs),
    }
    relationships = []
    if profile.blade_id:
        relationships.append(RelationshipSpec(type="runs_on", source_id=profile.id, target_id=profile.blade_id))
    spec = CiSpec(type="service_profile", name=profile.name, source_id=profile.id, attributes=attributes,
                  tags={"platform": Platform.UCS.value})  # fmt: skip
    return spec, relationships


def map_network(world: World, network: Network) -> Mapped:
    spec = CiSpec(
        type="network",
        name=network.name,
        source_id=network.id,
        attributes={"vlan": network.vlan, "cidr": network.cidr},
        tags={"platform": network.platform.value},
    )
    return spec, [RelationshipSpec(type="hosted_in", source_id=network.id, target_id=network.datacenter_id)]


def map_datastore(world: World, datastore: Datastore) -> Mapped:
    dc = world.get(Datacenter, datastore.datacenter_id)
    spec = CiSpec(
        type="storage",
        name=datastore.name,
        source_id=datastore.id,
        attributes={"kind": "datastore", "capacity_gb": datastore.capacity_gb},
        tags={"platform": dc.platform.value},
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
    if vm.platform is Platform.OPENSTACK:
        project = world.find(Project, vm.project_id or "")
        attributes |= {"project": project.name if project else None, "flavor": vm.flavor, "image": vm.image}
    if vm.node:
        attributes |= _node_attributes(vm.node)
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


def _node_attributes(node: Any) -> dict[str, Any]:
    return {
        "node": node.name,
        "guest_os": node.guest_os.value,
        "ansible_host": "127.0.0.1",
        "ansible_port": node.ssh_port,
        "ansible_user": node.ansible_user,
    }


#: The mapper of each simulated kind the CMDB holds, parents before children.
MAPPERS: dict[type, Callable[[World, Any], Mapped]] = {
    Datacenter: map_datacenter,
    Cluster: map_cluster,
    Chassis: map_chassis,
    Blade: map_blade,
    Host: map_host,
    Network: map_network,
    Datastore: map_datastore,
    ServiceProfile: map_service_profile,
    Vm: map_vm,
}


def desired_state(world: World) -> tuple[list[CiSpec], list[RelationshipSpec]]:
    """Every CI and relationship the world implies."""
    specs: list[CiSpec] = []
    relationships: list[RelationshipSpec] = []
    applications: set[str] = set()
    for cls, mapper in MAPPERS.items():
        objects: list[Any] = world.all(cls)
        for obj in objects:
            spec, rels = mapper(world, obj)
            specs.append(spec)
            relationships.extend(rels)
            if isinstance(obj, Vm):
                applications.update(obj.applications)
    specs += [
        CiSpec(type="application", name=name, source_id=application_source_id(name), attributes={}, tags={})
        for name in sorted(applications)
    ]
    return specs, relationships


def map_object(world: World, obj: Any) -> Mapped | None:
    """The mapping of one simulated object, None for kinds the CMDB does not hold."""
    mapper = MAPPERS.get(type(obj))
    return mapper(world, obj) if mapper else None
