"""OpenStack's own kinds of simulated objects, registered with core's world.

Core keeps what any cloud has (projects, flavors, images, networks, subnets, volumes);
keypairs, routers and security groups exist in OpenStack's API only, so they live here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from dcsim.model import utcnow

#: The platform label of the seed's cloud site, and the MAC prefix of its instances' NICs.
PLATFORM, MAC_PREFIX = "openstack", "fa:16:3e"


@attrs.define(kw_only=True)
class Keypair:
    """An OpenStack keypair (public key only)."""

    id: str
    name: str
    project_id: str
    public_key: str


@attrs.define(kw_only=True)
class Router:
    """An OpenStack router and the subnets it joins (its interfaces are ports, its gateway
    a port on ``external_network_id``)."""

    id: str
    name: str
    project_id: str
    subnet_ids: list[str] = attrs.field(factory=list)
    external_network_id: str | None = None
    enable_snat: bool = True
    admin_state_up: bool = True
    description: str = ""
    created_at: datetime = attrs.field(factory=utcnow)


@attrs.define(kw_only=True)
class SecurityGroup:
    """An OpenStack security group and its rules."""

    id: str
    name: str
    project_id: str
    rules: list[dict[str, Any]] = attrs.field(factory=list)
    description: str = ""
    created_at: datetime = attrs.field(factory=utcnow)


#: OpenStack kinds by the names core's world, store and API use.
KINDS: dict[str, type] = {"keypair": Keypair, "router": Router, "security_group": SecurityGroup}

__all__ = ["KINDS", "MAC_PREFIX", "PLATFORM", "Keypair", "Router", "SecurityGroup"]
