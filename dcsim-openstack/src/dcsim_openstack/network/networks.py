"""Networks and subnets: Neutron's operations on core's ``Network`` and ``Subnet``.

A network is a core ``Network`` of the cloud site (platform ``openstack``) plus its
``NeutronNetwork`` record; a subnet a core ``Subnet`` plus its ``NeutronSubnet``. Each
operation runs inside one engine transaction (the caller's ``change``) and records a
``network.changed`` event about the core network, so the CMDB follows.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from dcsim.model import new_id
from dcsim.sim.events import Change
from dcsim.sim.model import Datacenter, Network, Project, Subnet
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.model import PLATFORM
from dcsim_openstack.network.access import changes, flag, owner, sees, text
from dcsim_openstack.network.addresses import (
    check_pools,
    default_gateway,
    default_pools,
    network_record,
    parse_cidr,
    subnet_record,
    subnets_of,
)
from dcsim_openstack.network.model import AllocationPool, NeutronNetwork, NeutronSubnet
from dcsim_openstack.network.ports import all_ports, find_network

NETWORK_FIELDS = (
    "name", "admin_state_up", "shared", "router:external", "mtu", "description", "project_id", "tenant_id",
    "port_security_enabled", "availability_zone_hints", "provider:network_type", "provider:physical_network",
    "provider:segmentation_id", "dns_domain", "qos_policy_id", "is_default",
)  # fmt: skip
SUBNET_FIELDS = (
    "name", "network_id", "ip_version", "cidr", "gateway_ip", "allocation_pools", "enable_dhcp", "dns_nameservers",
    "host_routes", "description", "project_id", "tenant_id", "ipv6_ra_mode", "ipv6_address_mode", "subnetpool_id",
    "prefixlen", "service_types", "segment_id", "dns_publish_fixed_ip", "use_default_subnetpool",
)  # fmt: skip
#: Attributes an update may not change.
FIXED_SUBNET_FIELDS = ("network_id", "ip_version", "cidr", "project_id", "tenant_id", "subnetpool_id", "prefixlen")


def _event(change: Change, network: Network, what: str) -> None:
    data = {"kind": "network", "id": network.id, "name": network.name, "change": what, "fault_id": None}
    change.event("network.changed", data, network)


def visible_network(world: World, creds: Credentials, ref: str) -> Network:
    """A network ``creds`` may see, by id; 404 ``NetworkNotFound`` otherwise."""
    network = find_network(world, ref)
    record = network_record(world, network)
    if not sees(creds, record.project_id, public=record.shared or record.external):
        raise OpenStackError(404, f"Network {ref} could not be found.", title="NetworkNotFound")
    return network


def visible_networks(world: World, creds: Credentials) -> list[Network]:
    """Every network ``creds`` may see."""
    found = []
    for network in world.all(Network):
        if network.platform == PLATFORM:
            record = network_record(world, network)
            if sees(creds, record.project_id, public=record.shared or record.external):
                found.append(network)
    return found


def _site(world: World, project_id: str) -> str:
    project = world.find(Project, project_id)
    if project is not None:
        return project.datacenter_id
    site = next((d for d in world.all(Datacenter) if d.platform == PLATFORM), None)
    if site is None:
        raise OpenStackError(409, "The cloud has no region to make networks in.")
    return site.id


def _vlan(body: dict[str, Any]) -> int | None:
    value = body.get("provider:segmentation_id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4094:
        raise OpenStackError(400, f"Invalid input for provider:segmentation_id. Reason: '{value}' is not in 1..4094.")
    return value


def _mtu(body: dict[str, Any], default: int) -> int:
    value = body.get("mtu", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 68 <= value <= 9216:
        raise OpenStackError(400, f"Invalid input for mtu. Reason: '{value}' is not in 68..9216.")
    return value


def _core_name(world: World, cls: type, name: str, object_id: str) -> str:
    """The name of a core network or subnet: Neutron's name when no other has it (core's
    names are unique, Neutron's are not; Neutron's own record keeps the name it shows)."""
    found: Any = world.find(cls, name) if name else None
    if name and (found is None or found.id == object_id):
        return name
    return f"{name or cls.__name__.lower()}-{object_id[:8]}"


def _rename(world: World, obj: Network | Subnet, name: str) -> None:
    world.remove(obj)
    obj.name = _core_name(world, type(obj), name, obj.id)
    world.add(obj)


def create_network(world: World, change: Change, creds: Credentials, body: dict[str, Any]) -> Network:
    """Make a network (``router:external`` and ``shared`` need an admin)."""
    project_id = owner(creds, body)
    external, shared = flag(body, "router:external", False), flag(body, "shared", False)
    if (external or shared) and not creds.is_admin:
        raise OpenStackError(403, "Only an admin may make a shared or external network.")
    name, network_id = text(body, "name"), new_id()
    network = Network(
        id=network_id,
        name=_core_name(world, Network, name, network_id),
        datacenter_id=_site(world, project_id),
        platform=PLATFORM,
        vlan=_vlan(body),
    )
    record = NeutronNetwork(
        id=network.id, name=name, project_id=project_id, external=external, shared=shared,
        admin_state_up=flag(body, "admin_state_up", True), mtu=_mtu(body, 1450), description=text(body, "description"),
    )  # fmt: skip
    world.add(network)
    world.add(record)
    change.save(network, record)
    _event(change, network, "created")
    return network


def update_network(world: World, change: Change, creds: Credentials, network: Network, body: dict[str, Any]) -> None:
    """Change a network's name, description, admin state, MTU, or (admin) sharing."""
    record = network_record(world, network)
    changes(creds, record.project_id)
    if ("router:external" in body or "shared" in body) and not creds.is_admin:
        raise OpenStackError(403, "Only an admin may share a network or make it external.")
    if {"project_id", "tenant_id", "provider:segmentation_id"} & set(body):
        raise OpenStackError(400, "Cannot update read-only attribute project_id or provider:segmentation_id.")
    if world.find(NeutronNetwork, network.id) is None:
        world.add(record)
    if "name" in body:
        record.name = text(body, "name")
        _rename(world, network, record.name)
    record.description = text(body, "description", record.description)
    record.admin_state_up = flag(body, "admin_state_up", record.admin_state_up)
    record.mtu = _mtu(body, record.mtu)
    record.external = flag(body, "router:external", record.external)
    record.shared = flag(body, "shared", record.shared)
    change.save(network, record)
    _event(change, network, "updated")


def delete_network(world: World, change: Change, creds: Credentials, network: Network) -> None:
    """Delete a network and its subnets; 409 ``NetworkInUse`` while a port is on it."""
    from dcsim_openstack.network.model import FloatingIp

    record = network_record(world, network)
    changes(creds, record.project_id)
    in_use = [p for p in all_ports(world) if p.network_id == network.id]
    in_use_by_floating = [f for f in world.all(FloatingIp) if f.floating_network_id == network.id]
    if in_use or in_use_by_floating:
        raise OpenStackError(
            409,
            f"Unable to complete operation on network {network.id}. There are one or more ports still in use on "
            "the network.",
            title="NetworkInUse",
        )
    for subnet in subnets_of(world, network.id):
        _remove_subnet(world, change, subnet)
    for obj in (world.find(NeutronNetwork, network.id), network):
        if obj is not None:
            world.remove(obj)
            change.remove(obj)
    _event(change, network, "deleted")


def visible_subnet(world: World, creds: Credentials, ref: str) -> Subnet:
    """A subnet ``creds`` may see (on a network it sees), by id; 404 ``SubnetNotFound``."""
    subnet = world.find(Subnet, ref)
    network = world.find(Network, subnet.network_id) if subnet and subnet.id == ref else None
    if subnet is not None and network is not None and network.platform == PLATFORM:
        record, net_record = subnet_record(world, subnet), network_record(world, network)
        if sees(creds, record.project_id, public=net_record.shared or net_record.external):
            return subnet
    raise OpenStackError(404, f"Subnet {ref} could not be found.", title="SubnetNotFound")


def _pools(body: dict[str, Any]) -> list[AllocationPool] | None:
    value = body.get("allocation_pools")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(p, dict) and set(p) == {"start", "end"} for p in value):
        raise OpenStackError(400, "Invalid input for allocation_pools: a list of {start, end} is expected.")
    return [AllocationPool(start=str(p["start"]), end=str(p["end"])) for p in value]


def _nameservers(body: dict[str, Any], default: list[str]) -> list[str]:
    value = body.get("dns_nameservers", default)
    if not isinstance(value, list):
        raise OpenStackError(400, "Invalid input for dns_nameservers: a list of addresses is expected.")
    for server in value:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise OpenStackError(
                400, f"Invalid input for dns_nameservers. Reason: '{server}' is not a valid nameserver."
            ) from None
    return [str(s) for s in value]


def _check_overlap(world: World, network: Network, cidr: str) -> None:
    new = ipaddress.ip_network(cidr)
    for subnet in subnets_of(world, network.id):
        if new.overlaps(ipaddress.ip_network(subnet.cidr)):
            raise OpenStackError(
                400,
                f"Invalid input for operation: Requested subnet with cidr: {cidr} for network: {network.id} "
                "overlaps with another subnet.",
            )


def create_subnet(world: World, change: Change, creds: Credentials, body: dict[str, Any]) -> Subnet:
    """Make a subnet: the CIDR checked (a valid prefix of ``ip_version``, no overlap on its
    network), the gateway (first address unless given or null) and the pools (every other
    host address unless given) checked against it."""
    if not isinstance(body.get("network_id"), str):
        raise OpenStackError(400, "Invalid input for network_id: a network id is required.")
    network = visible_network(world, creds, body["network_id"])
    project_id = owner(creds, body)
    net_record = network_record(world, network)
    if net_record.project_id != project_id and not creds.is_admin:
        raise OpenStackError(404, f"Network {network.id} could not be found.", title="NetworkNotFound")
    if not isinstance(body.get("cidr"), str):
        raise OpenStackError(400, "Bad subnets request: a cidr must be specified in the absence of a subnet pool.")
    cidr_net = parse_cidr(body["cidr"])
    version = body.get("ip_version", 4)
    if version not in (4, 6) or version != cidr_net.version:
        raise OpenStackError(400, f"Invalid input for operation: cidr {body['cidr']} is not an IPv{version} prefix.")
    cidr = str(cidr_net)
    _check_overlap(world, network, cidr)
    if "gateway_ip" in body and body["gateway_ip"] is None:
        gateway = ""
    else:
        gateway = text(body, "gateway_ip", default_gateway(cidr))
        try:
            if ipaddress.ip_address(gateway) not in cidr_net:
                raise ValueError
        except ValueError:
            raise OpenStackError(400, f"Invalid input for operation: gateway {gateway} is not in {cidr}.") from None
    pools = _pools(body)
    if pools is None:
        pools = default_pools(cidr, gateway or None)
    check_pools(cidr, gateway or None, pools)
    name, subnet_id = text(body, "name"), new_id()
    subnet = Subnet(
        id=subnet_id,
        name=_core_name(world, Subnet, name, subnet_id),
        network_id=network.id,
        cidr=cidr,
        gateway_ip=gateway,
    )
    record = NeutronSubnet(
        id=subnet.id, name=name, project_id=project_id, ip_version=version,
        enable_dhcp=flag(body, "enable_dhcp", True), allocation_pools=pools,
        dns_nameservers=_nameservers(body, []), description=text(body, "description"),
    )  # fmt: skip
    world.add(subnet)
    world.add(record)
    change.save(subnet, record)
    if network.cidr is None and version == 4:
        network.cidr = cidr  # core's network carries its first IPv4 prefix
        change.save(network)
    _event(change, network, "subnet created")
    return subnet


def update_subnet(world: World, change: Change, creds: Credentials, subnet: Subnet, body: dict[str, Any]) -> None:
    """Change a subnet's name, description, DHCP flag, name servers, gateway or pools."""
    record = subnet_record(world, subnet)
    changes(creds, record.project_id)
    fixed = sorted(set(FIXED_SUBNET_FIELDS) & set(body))
    if fixed:
        raise OpenStackError(400, f"Cannot update read-only attribute {', '.join(fixed)}")
    if world.find(NeutronSubnet, subnet.id) is None:
        world.add(record)
    gateway = subnet.gateway_ip
    if "gateway_ip" in body:
        gateway = "" if body["gateway_ip"] is None else text(body, "gateway_ip")
    pools = _pools(body) or record.allocation_pools
    check_pools(subnet.cidr, gateway or None, pools)
    subnet.gateway_ip, record.allocation_pools = gateway, pools
    if "name" in body:
        record.name = text(body, "name")
        _rename(world, subnet, record.name)
    record.description = text(body, "description", record.description)
    record.enable_dhcp = flag(body, "enable_dhcp", record.enable_dhcp)
    record.dns_nameservers = _nameservers(body, record.dns_nameservers)
    change.save(subnet, record)
    _event(change, world.get(Network, subnet.network_id), "subnet updated")


def delete_subnet(world: World, change: Change, creds: Credentials, subnet: Subnet) -> None:
    """Delete a subnet; 409 ``SubnetInUse`` while a port has an address on it."""
    changes(creds, subnet_record(world, subnet).project_id)
    if any(ip.subnet_id == subnet.id for p in all_ports(world) for ip in p.fixed_ips):
        raise OpenStackError(
            409,
            f"Unable to complete operation on subnet {subnet.id}: One or more ports have an IP allocation from this subnet.",
            title="SubnetInUse",
        )
    _remove_subnet(world, change, subnet)
    _event(change, world.get(Network, subnet.network_id), "subnet deleted")


def _remove_subnet(world: World, change: Change, subnet: Subnet) -> None:
    from dcsim_openstack.model import Router

    for router in world.all(Router):
        if subnet.id in router.subnet_ids:
            router.subnet_ids = [s for s in router.subnet_ids if s != subnet.id]
            change.save(router)
    for obj in (world.find(NeutronSubnet, subnet.id), subnet):
        if obj is not None:
            world.remove(obj)
            change.remove(obj)


__all__ = [
    "NETWORK_FIELDS",
    "SUBNET_FIELDS",
    "create_network",
    "create_subnet",
    "delete_network",
    "delete_subnet",
    "update_network",
    "update_subnet",
    "visible_network",
    "visible_networks",
    "visible_subnet",
]
