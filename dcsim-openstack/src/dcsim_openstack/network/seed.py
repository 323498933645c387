"""The seed's Neutron: ``private-net``/``private-subnet`` (core's) as project demo's
network, an external network ``public`` with ``public-subnet``, and ``router1`` joining
private-subnet to public (an interface port on 10.0.0.1, a gateway port on public)."""

from __future__ import annotations

from dcsim.sim.model import Datacenter, Network, Project, Subnet
from dcsim.sim.topology import Topology
from dcsim_openstack.model import MAC_PREFIX, Router, SecurityGroup
from dcsim_openstack.network.addresses import default_pools
from dcsim_openstack.network.model import FixedIp, NeutronNetwork, NeutronSubnet, Port
from dcsim_openstack.network.routers import GATEWAY, INTERFACE
from dcsim_openstack.network.security import DEFAULT, rule

#: The external network devstack makes, and its prefix.
PUBLIC, PUBLIC_SUBNET, PUBLIC_CIDR = "public", "public-subnet", "172.24.4.0/24"


def seed_networks(topology: Topology) -> None:
    """Neutron's records of the seed's private network, the ``public`` external network,
    router1's interface and gateway ports, and the default group's egress rules."""
    t, world = topology, topology.world
    project, private = world.find(Project, "demo"), world.find(Network, "private-net")
    private_subnet, region = world.find(Subnet, "private-subnet"), world.find(Datacenter, "RegionOne")
    if project is None or private is None or private_subnet is None or region is None:
        return
    t.add(NeutronNetwork(id=private.id, name=private.name, project_id=project.id))
    t.add(
        NeutronSubnet(
            id=private_subnet.id, name=private_subnet.name, project_id=project.id,
            allocation_pools=default_pools(private_subnet.cidr, private_subnet.gateway_ip), dns_nameservers=[],
        )
    )  # fmt: skip
    public = t.network(PUBLIC, region, vlan=None, cidr=PUBLIC_CIDR)
    gateway = "172.24.4.1"
    public_subnet = t.add(
        Subnet(
            id=t.id("subnet", PUBLIC_SUBNET),
            name=PUBLIC_SUBNET,
            network_id=public.id,
            cidr=PUBLIC_CIDR,
            gateway_ip=gateway,
        )
    )
    t.add(NeutronNetwork(id=public.id, name=PUBLIC, project_id=project.id, external=True, mtu=1500))
    t.add(
        NeutronSubnet(
            id=public_subnet.id, name=PUBLIC_SUBNET, project_id=project.id, enable_dhcp=False,
            allocation_pools=default_pools(PUBLIC_CIDR, gateway),
        )
    )  # fmt: skip
    router = world.find(Router, "router1")
    if router is not None:
        router.external_network_id = public.id
        for name, network, address, owner in (
            (
                "router1-interface",
                private,
                FixedIp(subnet_id=private_subnet.id, ip_address=private_subnet.gateway_ip),
                INTERFACE,
            ),
            ("router1-gateway", public, FixedIp(subnet_id=public_subnet.id, ip_address="172.24.4.2"), GATEWAY),
        ):
            t.add(
                Port(
                    id=t.id("port", name), name="", network_id=network.id, project_id=project.id,
                    mac_address=t.mac(MAC_PREFIX, name), fixed_ips=[address], device_id=router.id, device_owner=owner,
                )
            )  # fmt: skip
    group = next((g for g in world.all(SecurityGroup) if g.project_id == project.id and g.name == DEFAULT), None)
    if group is not None:
        extra = [rule("egress", "IPv4"), rule("egress", "IPv6")]
        for index, entry in enumerate(extra, start=len(group.rules)):
            entry["id"] = t.id("security_group_rule", f"{group.id}/{index}")
        group.rules = [*group.rules, *extra]


__all__ = ["PUBLIC", "PUBLIC_CIDR", "PUBLIC_SUBNET", "seed_networks"]
