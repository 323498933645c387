"""The CMDB's vocabulary: core's CI types and relationship types (plugins add theirs)."""

from __future__ import annotations

CI_TYPES: dict[str, str] = {
    "datacenter": "a site or region",
    "cluster": "a cluster, an availability zone or a chassis of physical servers",
    "host": "a hypervisor host or a bare-metal server",
    "vm": "a virtual machine or a cloud instance",
    "network": "a VLAN or a tenant network with its prefixes",
    "storage": "a datastore or a block volume",
    "application": "a service that runs on one or more CIs",
}

#: name -> (description, inverse reading)
RELATIONSHIP_TYPES: dict[str, tuple[str, str]] = {
    "runs_on": ("a VM runs on a host, an application on a VM", "runs"),
    "member_of": ("a host is a member of a cluster", "has_member"),
    "connected_to": ("a VM or host is connected to a network", "connects"),
    "depends_on": ("an application depends on another CI", "supports"),
    "hosted_in": ("a cluster or storage is hosted in a datacenter", "hosts"),
}
