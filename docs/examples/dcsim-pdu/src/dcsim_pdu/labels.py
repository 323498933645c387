"""The labels of nodes fed by a PDU: ``sim.pdu.name`` and ``sim.pdu.outlet``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.sim.model import Blade
from dcsim_pdu.model import feed_of

if TYPE_CHECKING:
    from dcsim.sim.world import World


def pdu_labels(world: World, owner: Any) -> dict[str, str]:
    """Labels for the node of ``owner``: the PDU and outlet feeding it, when it is a fed server."""
    if not isinstance(owner, Blade):
        return {}
    feed = feed_of(world, owner)
    if feed is None:
        return {}
    pdu, outlet = feed
    return {"sim.pdu.name": pdu.name, "sim.pdu.outlet": str(outlet.number)}


__all__ = ["pdu_labels"]
