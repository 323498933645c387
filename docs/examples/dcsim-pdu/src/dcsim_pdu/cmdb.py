"""The PDU in the CMDB: a ``pdu`` CI, each server it feeds ``powered_by`` it, and an
inventory group of the nodes each PDU feeds.

The server CIs are core's; :func:`amend_server` adds the feeding PDU and outlet to
them (which is also what the inventory rule reads: a rule sees CIs, not the world) and
the ``powered_by`` relationship. Relationships point from the dependent CI to what it
depends on (a VM ``runs_on`` its host), so the server is the source: the PDU's impact
analysis then reaches its servers, their hosts and VMs downstream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.cmdb.model import CiSpec, RelationshipSpec
from dcsim.sim.model import Blade, Chassis, Datacenter
from dcsim_pdu.model import KIND, Pdu, feed_of

if TYPE_CHECKING:
    from dcsim.cmdb.model import Ci
    from dcsim.sim.world import World

#: The CI type of a PDU, and the relationship from each server it feeds to it.
CI_TYPE = KIND
RELATIONSHIP, INVERSE = "powered_by", "powers"
#: Prefix of the inventory group of the nodes a PDU feeds: ``fed_by_pdu_01``.
GROUP_PREFIX = "fed_by_"


def map_pdu(world: World, pdu: Pdu) -> tuple[CiSpec, list[RelationshipSpec]]:
    """The CI of ``pdu`` and the relationship it starts: hosted in its datacenter."""
    fed = [outlet for outlet in pdu.outlets if outlet.server_id]
    attributes: dict[str, Any] = {
        "model": pdu.model,
        "serial": pdu.serial,
        "datacenter": world.get(Datacenter, pdu.datacenter_id).name,
        "chassis": world.get(Chassis, pdu.chassis_id).name,
        "outlets": len(pdu.outlets),
        "outlets_off": [outlet.number for outlet in pdu.outlets if not outlet.powered],
        "feeds": {str(o.number): world.get(Blade, o.server_id).name for o in fed if o.server_id},
    }
    relationships = [RelationshipSpec(type="hosted_in", source_id=pdu.id, target_id=pdu.datacenter_id)]
    spec = CiSpec(type=CI_TYPE, name=pdu.name, source_id=pdu.id, attributes=attributes, tags={"role": "power"})
    return spec, relationships


def amend_server(world: World, server: Blade, spec: CiSpec, relationships: list[RelationshipSpec]) -> None:
    """Add ``pdu`` and ``pdu_outlet`` to the CI of a server a PDU feeds, and ``powered_by`` the PDU."""
    feed = feed_of(world, server)
    if feed is not None:
        pdu, outlet = feed
        spec.attributes["pdu"] = pdu.name
        spec.attributes["pdu_outlet"] = outlet.number
        relationships.append(RelationshipSpec(type=RELATIONSHIP, source_id=server.id, target_id=pdu.id))


def inventory_groups(ci: Ci) -> list[str]:
    """``fed_by_<pdu>`` for the node of a server a PDU feeds."""
    pdu = ci.attributes.get("pdu")
    return [f"{GROUP_PREFIX}{pdu}"] if pdu else []


__all__ = ["CI_TYPE", "GROUP_PREFIX", "INVERSE", "RELATIONSHIP", "amend_server", "inventory_groups", "map_pdu"]
