"""Security groups and their rules, and the ``default`` group every project gets.

Rules live inside their group (``SecurityGroup.rules``, one dict per rule with Neutron's
fields), so a group and its rules change in one save. Neutron makes a project's
``default`` group the first time the project needs one (lists groups, makes a port);
so does this module, with Neutron's four default rules.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from dcsim.model import new_id, utcnow
from dcsim.sim.events import Change
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.model import SecurityGroup
from dcsim_openstack.network.access import changes, sees, text

DEFAULT = "default"
#: IP protocols by the names Neutron accepts for them.
PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "sctp": 132, "ah": 51, "esp": 50, "gre": 47, "vrrp": 112}
_RULE_NAMESPACE = uuid.UUID("0d5f0c8a-7a0f-4a61-8d3e-3c4f1c6c2b17")


def rule(
    direction: str,
    ethertype: str = "IPv4",
    *,
    protocol: str | None = None,
    port_range_min: int | None = None,
    port_range_max: int | None = None,
    remote_ip_prefix: str | None = None,
    remote_group_id: str | None = None,
    description: str = "",
) -> dict[str, Any]:
    """A rule as a group stores it, with a new id."""
    return {
        "id": new_id(), "direction": direction, "ethertype": ethertype, "protocol": protocol,
        "port_range_min": port_range_min, "port_range_max": port_range_max,
        "remote_ip_prefix": remote_ip_prefix, "remote_group_id": remote_group_id,
        "description": description, "created_at": utcnow().isoformat(),
    }  # fmt: skip


def egress_rules() -> list[dict[str, Any]]:
    """What every new group allows: all egress, IPv4 and IPv6."""
    return [rule("egress", "IPv4"), rule("egress", "IPv6")]


def default_rules(group_id: str) -> list[dict[str, Any]]:
    """The ``default`` group's rules: all egress, ingress from members of the group."""
    return [
        *egress_rules(),
        rule("ingress", "IPv4", remote_group_id=group_id),
        rule("ingress", "IPv6", remote_group_id=group_id),
    ]


def rules_of(group: SecurityGroup) -> list[dict[str, Any]]:
    """The group's rules with every field Neutron shows (a stable id for one stored without)."""
    full = []
    for index, stored in enumerate(group.rules):
        entry = {
            "id": str(uuid.uuid5(_RULE_NAMESPACE, f"{group.id}/{index}")), "ethertype": "IPv4", "protocol": None,
            "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None,
            "description": "", "created_at": group.created_at.isoformat(),
        } | stored  # fmt: skip
        full.append(entry)
    return full


def default_group(world: World, project_id: str) -> SecurityGroup | None:
    """The project's ``default`` group, if it has one yet."""
    return next((g for g in world.all(SecurityGroup) if g.project_id == project_id and g.name == DEFAULT), None)


def ensure_default_group(world: World, change: Change, project_id: str) -> SecurityGroup:
    """The project's ``default`` group, made now (and saved with ``change``) if it has none."""
    group = default_group(world, project_id)
    if group is None:
        group_id = new_id()
        group = SecurityGroup(
            id=group_id,
            name=DEFAULT,
            project_id=project_id,
            rules=default_rules(group_id),
            description="Default security group",
        )
        world.add(group)
        change.save(group)
    return group


def find_group(world: World, ref: str) -> SecurityGroup:
    """A group by id; 404 ``SecurityGroupNotFound``."""
    group = world.find(SecurityGroup, ref)
    if group is None or group.id != ref:
        raise OpenStackError(404, f"Security group {ref} does not exist", title="SecurityGroupNotFound")
    return group


def create_group(world: World, change: Change, *, project_id: str, name: str, description: str = "") -> SecurityGroup:
    """A new group with Neutron's egress rules (a second ``default`` of a project is a 409)."""
    if name == DEFAULT and default_group(world, project_id) is not None:
        raise OpenStackError(
            409, "Security group default already exists for the project.", title="SecurityGroupConflict"
        )
    group = SecurityGroup(id=new_id(), name=name, project_id=project_id, rules=egress_rules(), description=description)
    world.add(group)
    change.save(group)
    return group


def delete_group(world: World, change: Change, group: SecurityGroup, *, admin: bool = False) -> None:
    """Delete a group; 409 for one a port uses, or a ``default`` group unless ``admin``."""
    from dcsim_openstack.network.ports import all_ports

    if group.name == DEFAULT and not admin:
        raise OpenStackError(
            409, "Insufficient rights for removing default security group.", title="SecurityGroupCannotRemoveDefault"
        )
    if any(group.id in p.security_group_ids for p in all_ports(world)):
        raise OpenStackError(409, f"Security Group {group.id} in use.", title="SecurityGroupInUse")
    world.remove(group)
    change.remove(group)


def find_rule(world: World, rule_id: str) -> tuple[SecurityGroup, dict[str, Any]]:
    """A rule and its group by the rule's id; 404 ``SecurityGroupRuleNotFound``."""
    for group in world.all(SecurityGroup):
        for entry in rules_of(group):
            if entry["id"] == rule_id:
                return group, entry
    raise OpenStackError(404, f"Security group rule {rule_id} does not exist", title="SecurityGroupRuleNotFound")


def _port(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit() or int(value) > 65535:
        raise OpenStackError(400, f"Invalid value for port {value}.", title="SecurityGroupInvalidPortValue")
    return int(value)


def _protocol(value: Any) -> str | None:
    if value in (None, "any"):
        return None
    text = str(value).lower()
    if text in PROTOCOLS or (text.isdigit() and 0 <= int(text) <= 255):
        return text
    raise OpenStackError(
        400, f"Security group rule protocol {value} not supported. Only protocol values {sorted(PROTOCOLS)} "
        "and integer representations [0 to 255] are supported.", title="SecurityGroupRuleInvalidProtocol",
    )  # fmt: skip


def add_rule(world: World, change: Change, group: SecurityGroup, body: dict[str, Any]) -> dict[str, Any]:
    """Check a rule's fields as Neutron does, add it to ``group`` and return it.

    Raises:
        OpenStackError: 400 for a bad direction, ethertype, protocol, port range or
            prefix, or both a prefix and a remote group; 409 ``SecurityGroupRuleExists``.
    """
    direction = body.get("direction")
    if direction not in ("ingress", "egress"):
        raise OpenStackError(
            400, f"Invalid input for direction. Reason: {direction!r} is not in ['ingress', 'egress']."
        )
    ethertype = body.get("ethertype") or "IPv4"
    if ethertype not in ("IPv4", "IPv6"):
        raise OpenStackError(400, f"Invalid input for ethertype. Reason: {ethertype!r} is not in ['IPv4', 'IPv6'].")
    protocol = _protocol(body.get("protocol"))
    low, high = _port(body.get("port_range_min"), "min"), _port(body.get("port_range_max"), "max")
    if (low is not None or high is not None) and protocol is None:
        raise OpenStackError(
            400, "Must also specify protocol if port range is given.", title="SecurityGroupProtocolRequiredWithPorts"
        )
    if protocol in ("tcp", "udp", "6", "17") and low is not None and high is not None and low > high:
        raise OpenStackError(
            400,
            "For TCP/UDP protocols, port_range_min must be <= port_range_max",
            title="SecurityGroupInvalidPortRange",
        )
    if protocol in ("tcp", "udp") and low is not None and high is None:
        high = low
    prefix, remote_group = body.get("remote_ip_prefix"), body.get("remote_group_id")
    if prefix and remote_group:
        raise OpenStackError(
            400,
            "Only remote_ip_prefix or remote_group_id may be provided.",
            title="SecurityGroupRemoteGroupAndRemoteIpPrefix",
        )
    if prefix:
        try:
            network = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            raise OpenStackError(
                400, f"Invalid input for remote_ip_prefix. Reason: '{prefix}' is not a valid IP subnet."
            ) from None
        if (network.version == 4) != (ethertype == "IPv4"):
            raise OpenStackError(
                400,
                f"Conflicting value ethertype {ethertype} for CIDR {prefix}",
                title="SecurityGroupConflictingEthertype",
            )
        prefix = str(network)
    if remote_group:
        find_group(world, str(remote_group))
    new = rule(
        direction, ethertype, protocol=protocol, port_range_min=low, port_range_max=high,
        remote_ip_prefix=prefix, remote_group_id=remote_group, description=str(body.get("description") or ""),
    )  # fmt: skip
    same = (
        "direction",
        "ethertype",
        "protocol",
        "port_range_min",
        "port_range_max",
        "remote_ip_prefix",
        "remote_group_id",
    )
    for existing in rules_of(group):
        if all(existing[k] == new[k] for k in same):
            raise OpenStackError(
                409,
                f"Security group rule already exists. Rule id is {existing['id']}.",
                title="SecurityGroupRuleExists",
            )
    group.rules = [*rules_of(group), new]
    change.save(group)
    return new


def remove_rule(change: Change, group: SecurityGroup, rule_id: str) -> None:
    """Take the rule ``rule_id`` out of ``group``."""
    group.rules = [r for r in rules_of(group) if r["id"] != rule_id]
    change.save(group)


GROUP_FIELDS = ("name", "description", "project_id", "tenant_id", "stateful", "shared")
RULE_FIELDS = (
    "security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
    "remote_ip_prefix", "remote_group_id", "remote_address_group_id", "description", "project_id", "tenant_id",
)  # fmt: skip


def visible_groups(world: World, creds: Credentials) -> list[SecurityGroup]:
    """Every group ``creds`` may see."""
    return [g for g in world.all(SecurityGroup) if sees(creds, g.project_id)]


def visible_group(world: World, creds: Credentials, ref: str) -> SecurityGroup:
    """A group ``creds`` may see, by id; 404 ``SecurityGroupNotFound``."""
    group = find_group(world, ref)
    if not sees(creds, group.project_id):
        raise OpenStackError(404, f"Security group {ref} does not exist", title="SecurityGroupNotFound")
    return group


def update_group(world: World, change: Change, creds: Credentials, group: SecurityGroup, body: dict[str, Any]) -> None:
    """Change a group's name or description (``default`` keeps its name)."""
    changes(creds, group.project_id)
    name = text(body, "name", group.name)
    if group.name == DEFAULT and name != DEFAULT:
        raise OpenStackError(
            400, "Updating default security group not allowed.", title="SecurityGroupCannotUpdateDefault"
        )
    group.name, group.description = name, text(body, "description", group.description)
    change.save(group)


__all__ = [
    "DEFAULT",
    "GROUP_FIELDS",
    "RULE_FIELDS",
    "add_rule",
    "create_group",
    "default_group",
    "default_rules",
    "delete_group",
    "egress_rules",
    "ensure_default_group",
    "find_group",
    "find_rule",
    "remove_rule",
    "rule",
    "rules_of",
    "update_group",
    "visible_group",
    "visible_groups",
]
