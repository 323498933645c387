"""Neutron's JSON for each kind of object, as its API reference shows them.

Every object carries ``project_id`` and its old name ``tenant_id``, ``tags``,
``created_at``/``updated_at`` and ``revision_number``, as Neutron's standard attributes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dcsim.sim.model import Network, Subnet
from dcsim.sim.world import World
from dcsim_openstack.model import Router, SecurityGroup
from dcsim_openstack.network.addresses import network_record, subnet_record, subnets_of
from dcsim_openstack.network.model import FloatingIp, Port
from dcsim_openstack.network.security import rules_of


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _standard(project_id: str, created_at: datetime) -> dict[str, Any]:
    stamp = _time(created_at)
    return {
        "project_id": project_id, "tenant_id": project_id, "tags": [],
        "created_at": stamp, "updated_at": stamp, "revision_number": 1,
    }  # fmt: skip


def network_view(world: World, network: Network) -> dict[str, Any]:
    """A network."""
    record = network_record(world, network)
    return {
        "id": network.id, "name": record.name, "status": "ACTIVE", "admin_state_up": record.admin_state_up,
        "subnets": [s.id for s in subnets_of(world, network.id)], "shared": record.shared,
        "router:external": record.external, "mtu": record.mtu, "description": record.description,
        "availability_zone_hints": [], "availability_zones": ["nova"], "ipv4_address_scope": None,
        "ipv6_address_scope": None, "port_security_enabled": True, "is_default": False,
        "provider:network_type": "vlan" if network.vlan is not None else "vxlan",
        "provider:physical_network": "physnet1" if network.vlan is not None else None,
        "provider:segmentation_id": network.vlan, "qos_policy_id": None, "dns_domain": "",
        **_standard(record.project_id, record.created_at),
    }  # fmt: skip


def subnet_view(world: World, subnet: Subnet) -> dict[str, Any]:
    """A subnet."""
    record = subnet_record(world, subnet)
    return {
        "id": subnet.id, "name": record.name, "network_id": subnet.network_id, "ip_version": record.ip_version,
        "cidr": subnet.cidr, "gateway_ip": subnet.gateway_ip or None,
        "allocation_pools": [{"start": p.start, "end": p.end} for p in record.allocation_pools],
        "enable_dhcp": record.enable_dhcp, "dns_nameservers": list(record.dns_nameservers), "host_routes": [],
        "ipv6_ra_mode": None, "ipv6_address_mode": None, "subnetpool_id": None, "service_types": [],
        "description": record.description, "dns_publish_fixed_ip": False, "segment_id": None,
        **_standard(record.project_id, record.created_at),
    }  # fmt: skip


def port_view(world: World, port: Port) -> dict[str, Any]:
    """A port (``ACTIVE`` when bound to a device, ``DOWN`` otherwise)."""
    return {
        "id": port.id, "name": port.name, "network_id": port.network_id, "mac_address": port.mac_address,
        "admin_state_up": port.admin_state_up, "status": "ACTIVE" if port.device_id else "DOWN",
        "device_id": port.device_id, "device_owner": port.device_owner,
        "fixed_ips": [{"subnet_id": ip.subnet_id, "ip_address": ip.ip_address} for ip in port.fixed_ips],
        "security_groups": list(port.security_group_ids), "allowed_address_pairs": [], "extra_dhcp_opts": [],
        "description": port.description, "port_security_enabled": True, "binding:vnic_type": "normal",
        "binding:host_id": "", "binding:profile": {}, "binding:vif_type": "ovs" if port.device_id else "unbound",
        "binding:vif_details": {}, "dns_name": "", "dns_assignment": [], "propagate_uplink_status": False,
        "qos_policy_id": None, "ip_allocation": "immediate",
        **_standard(port.project_id, port.created_at),
    }  # fmt: skip


def router_view(world: World, router: Router) -> dict[str, Any]:
    """A router, with its external gateway (the gateway port's addresses) or None."""
    gateway = None
    if router.external_network_id:
        gw_port = next(
            (p for p in world.all(Port) if p.device_id == router.id and p.device_owner == "network:router_gateway"),
            None,
        )
        gateway = {
            "network_id": router.external_network_id,
            "enable_snat": router.enable_snat,
            "external_fixed_ips": [
                {"subnet_id": ip.subnet_id, "ip_address": ip.ip_address}
                for ip in (gw_port.fixed_ips if gw_port else [])
            ],
        }
    return {
        "id": router.id, "name": router.name, "status": "ACTIVE", "admin_state_up": router.admin_state_up,
        "external_gateway_info": gateway, "routes": [], "description": router.description, "distributed": False,
        "ha": False, "availability_zone_hints": [], "availability_zones": ["nova"], "flavor_id": None,
        **_standard(router.project_id, router.created_at),
    }  # fmt: skip


def rule_view(group: SecurityGroup, rule: dict[str, Any]) -> dict[str, Any]:
    """A security group rule."""
    created = datetime.fromisoformat(rule["created_at"]) if rule.get("created_at") else group.created_at
    return {
        "id": rule["id"], "security_group_id": group.id, "direction": rule["direction"],
        "ethertype": rule["ethertype"], "protocol": rule["protocol"], "port_range_min": rule["port_range_min"],
        "port_range_max": rule["port_range_max"], "remote_ip_prefix": rule["remote_ip_prefix"],
        "remote_group_id": rule["remote_group_id"], "remote_address_group_id": None,
        "normalized_cidr": rule["remote_ip_prefix"], "description": rule["description"], "belongs_to_default_sg": group.name == "default",
        **_standard(group.project_id, created),
    }  # fmt: skip


def security_group_view(world: World, group: SecurityGroup) -> dict[str, Any]:
    """A security group with its rules."""
    return {
        "id": group.id, "name": group.name, "description": group.description, "stateful": True, "shared": False,
        "security_group_rules": [rule_view(group, r) for r in rules_of(group)],
        **_standard(group.project_id, group.created_at),
    }  # fmt: skip


def floating_ip_view(world: World, floating: FloatingIp) -> dict[str, Any]:
    """A floating IP (``ACTIVE`` when associated with a port)."""
    return {
        "id": floating.id, "floating_network_id": floating.floating_network_id,
        "floating_ip_address": floating.floating_ip_address, "fixed_ip_address": floating.fixed_ip_address,
        "port_id": floating.port_id, "router_id": floating.router_id,
        "status": "ACTIVE" if floating.port_id else "DOWN", "description": floating.description,
        "port_details": None, "dns_domain": "", "dns_name": "", "qos_policy_id": None, "port_forwardings": [],
        **_standard(floating.project_id, floating.created_at),
    }  # fmt: skip


__all__ = [
    "floating_ip_view",
    "network_view",
    "port_view",
    "router_view",
    "rule_view",
    "security_group_view",
    "subnet_view",
]
