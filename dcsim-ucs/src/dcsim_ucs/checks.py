"""Values UCS Manager refuses in stored objects: VLAN and VSAN numbers, pool blocks, ...

Each check sees the object whole (its rn's properties too) and the tree as the request
has changed it so far, so a duplicate within one request is caught as well.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from dcsim_ucs.classes import split_dn
from dcsim_ucs.errors import invalid_config
from dcsim_ucs.mo import Tree

MAC = r"([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}"
WWN = r"([0-9A-Fa-f]{2}:){7}[0-9A-Fa-f]{2}"
UUID_SUFFIX = r"[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
UUID_PREFIX = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}"


class Values:
    """One object's properties, with the checks that refuse them in UCS Manager's words."""

    def __init__(self, tree: Tree, dn: str, values: dict[str, str]) -> None:
        self.tree, self.dn, self.values = tree, dn, values

    def allowed(self, prop: str, *choices: str) -> None:
        """``prop``, when given, is one of ``choices``."""
        if prop in self.values and self.values[prop] not in choices:
            raise invalid_config(f"{self.dn}: {prop} must be one of {', '.join(choices)}, not {self.values[prop]!r}")

    def number(self, prop: str, what: str, *ranges: tuple[int, int]) -> int:
        """``prop`` is a whole number inside one of ``ranges``."""
        value = self.values.get(prop, "")
        if not value.isdigit() or not any(low <= int(value) <= high for low, high in ranges):
            spans = " or ".join(f"{low} to {high}" for low, high in ranges)
            raise invalid_config(f"{self.dn}: {prop} must be {what} from {spans}, not {value!r}")
        return int(value)

    def address(self, prop: str, kind: str, pattern: str = "") -> int:
        """``prop`` as a number (so blocks can be ordered): an IP address, or ``pattern`` in hex."""
        value = self.values.get(prop, "")
        try:
            if kind in ("IP", "IPv4", "IPv6"):
                parsed = ipaddress.ip_address(value)
                if kind in ("IP", f"IPv{parsed.version}"):
                    return int(parsed)
            elif re.fullmatch(pattern, value):
                return int(re.sub("[:-]", "", value), 16)
        except ValueError:
            pass
        raise invalid_config(f"{self.dn}: {prop} {value!r} is not a valid {kind} address")

    def block(self, kind: str, pattern: str = "") -> tuple[int, int]:
        """``from`` and ``to`` are addresses of ``kind``, in order."""
        first, last = self.address("from", kind, pattern), self.address("to", kind, pattern)
        if first > last:
            raise invalid_config(
                f"{self.dn}: the block starts at {self.values['from']}, after its end {self.values['to']}"
            )
        return first, last


def _pool(v: Values) -> None:
    v.allowed("assignmentOrder", "default", "sequential")


def _vlan(v: Values) -> None:
    vlan = str(v.number("id", "a VLAN number", (1, 4093)))
    for other in v.tree.children(split_dn(v.dn)[0]):
        if other.class_id == "fabricVlan" and other.dn != v.dn and other.attrs.get("id") == vlan:
            raise invalid_config(f"{v.dn}: VLAN {vlan} is already {other.attrs.get('name')}")
    # An FCoE VLAN carries its VSAN only: it cannot be an Ethernet VLAN too.
    for vsan in v.tree.of_class("fabricVsan"):
        if vsan.attrs.get("fcoeVlan") == vlan:
            raise invalid_config(f"{v.dn}: VLAN {vlan} is the FCoE VLAN of VSAN {vsan.dn}")
    v.allowed("sharing", "none", "primary", "isolated", "community")
    v.allowed("defaultNet", "yes", "no")


def _vsan(v: Values) -> None:
    vsan_id = v.number("id", "a VSAN number", (1, 4078), (4080, 4093))  # 4079 is reserved
    san = v.tree.get("fabric/san")
    if san is not None and san.attrs.get("mode") == "end-host" and 3840 <= vsan_id <= 4079:
        raise invalid_config(f"{v.dn}: VSANs 3840 to 4079 are reserved in FC end-host mode")
    fcoe = str(v.number("fcoeVlan", "a VLAN number", (1, 4042), (4048, 4093)))
    for other in v.tree.of_class("fabricVsan"):
        if other.dn == v.dn:
            continue
        if other.parent_dn == split_dn(v.dn)[0] and other.attrs.get("id") == str(vsan_id):
            raise invalid_config(f"{v.dn}: VSAN {vsan_id} is already {other.attrs.get('name')}")
        if other.attrs.get("fcoeVlan") == fcoe:
            raise invalid_config(f"{v.dn}: FCoE VLAN {fcoe} is already used by VSAN {other.dn}")
    for ethernet in v.tree.of_class("fabricVlan"):
        if ethernet.attrs.get("id") == fcoe:
            raise invalid_config(f"{v.dn}: FCoE VLAN {fcoe} is the Ethernet VLAN {ethernet.dn}")
    v.allowed("zoningState", "disabled", "enabled")
    v.allowed("fcZoneSharingMode", "coalesce", "clear-unmanaged-zone-all")


def _uuid_pool(v: Values) -> None:
    _pool(v)
    prefix = v.values.get("prefix", "derived")
    if prefix != "derived" and not re.fullmatch(UUID_PREFIX, prefix):
        raise invalid_config(f"{v.dn}: prefix must be derived or XXXXXXXX-XXXX-XXXX (hex), not {prefix!r}")


def _wwn_pool(v: Values) -> None:
    _pool(v)
    v.allowed("purpose", "node-wwn-assignment", "port-wwn-assignment", "node-and-port-wwn-assignment")
    v.allowed("maxPortsPerNode", "upto3", "upto7", "upto15", "upto31", "upto63")


def _mac_block(v: Values) -> None:
    v.block("MAC", MAC)


def _uuid_block(v: Values) -> None:
    v.block("UUID suffix", UUID_SUFFIX)


def _dns_server(v: Values) -> None:
    v.address("name", "IP")  # a DNS server is given by its address, v4 or v6


def _wwn_block(v: Values) -> None:
    first, last = v.block("WWN", WWN)
    # UCS Manager hands out WWNs from 20:xx (IEEE extended) or 5x:xx (registered) only.
    if not all(n >> 56 == 0x20 or n >> 60 == 0x5 for n in (first, last)) or first >> 56 != last >> 56:
        raise invalid_config(f"{v.dn}: WWN blocks lie within 20:00:00:00:00:00:00:00 to 20:FF:FF:FF:FF:FF:FF:FF "
                             "or 50:00:00:00:00:00:00:00 to 5F:FF:FF:FF:FF:FF:FF:FF")  # fmt: skip


def _ipv4_block(v: Values) -> None:
    _, last = v.block("IPv4")
    for prop in ("defGw", "primDns", "secDns", "subnet"):
        if prop in v.values:
            v.address(prop, "IPv4")
    mask = v.values.get("subnet", "255.255.255.0")
    try:
        network = ipaddress.IPv4Network(f"{v.values['from']}/{mask}", strict=False)
    except ValueError:
        raise invalid_config(f"{v.dn}: subnet {mask!r} is not a netmask") from None
    if ipaddress.IPv4Address(last) not in network:
        raise invalid_config(f"{v.dn}: {v.values['from']} and {v.values['to']} are not in one subnet {network}")


def _ipv6_block(v: Values) -> None:
    v.block("IPv6")
    for prop in ("defGw", "primDns", "secDns"):
        if prop in v.values:
            v.address(prop, "IPv6")
    if "prefix" in v.values:
        v.number("prefix", "a prefix length", (1, 127))


CHECKS: dict[str, Callable[[Values], None]] = {
    "fabricVlan": _vlan,
    "fabricVsan": _vsan,
    "macpoolPool": _pool,
    "ippoolPool": _pool,
    "uuidpoolPool": _uuid_pool,
    "fcpoolInitiators": _wwn_pool,
    "macpoolBlock": _mac_block,
    "uuidpoolBlock": _uuid_block,
    "fcpoolBlock": _wwn_block,
    "ippoolBlock": _ipv4_block,
    "ippoolIpV6Block": _ipv6_block,
    "commDnsProvider": _dns_server,
}


def check_values(tree: Tree, class_id: str, dn: str, values: dict[str, str]) -> None:
    """Refuse what UCS Manager would refuse of a ``class_id`` object with ``values``."""
    check = CHECKS.get(class_id)
    if check is not None:
        check(Values(tree, dn, values))
