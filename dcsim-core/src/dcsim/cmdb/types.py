"""The CMDB's vocabulary: core's CI types and relationship types."""

from __future__ import annotations

CI_TYPES: dict[str, str] = {
    "datacenter": "a site: a vSphere datacenter, an OpenStack region or a UCS domain's site",
    "cluster": "a vSphere cluster, an OpenStack project's compute pool or a UCS chassis group",
    "host": "a hypervisor host or a bare-metal blade",
    "vm": "a virtual machine or an OpenStack instance",
    "network": "a VLAN or a tenant network with its prefixes",
    "storage": "a datastore or a block volume",
    "service_profile": "a UCS service profile",
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
