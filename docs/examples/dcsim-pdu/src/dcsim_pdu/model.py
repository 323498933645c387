"""The PDU's object kind: a switched rack power distribution unit and its outlets.

A plain attrs class, like core's own kinds: the one converter of ``dcsim.convert``
stores it and renders its JSON, so ``GET /sim/state`` shows ``pdu`` objects with exactly
these fields. References to other objects are ids, as everywhere in the world.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from dcsim.sim.model import Blade

if TYPE_CHECKING:
    from dcsim.sim.world import World

#: The kind name: the store key prefix (``pdu/<id>``), the key in ``GET /sim/state``,
#: the CI type, and the ``kind`` of fault targets and events about a PDU.
KIND = "pdu"


@attrs.define(kw_only=True)
class Outlet:
    """One switched outlet; ``server_id`` is the physical server its cord feeds, if any."""

    number: int
    server_id: str | None = None
    powered: bool = True


@attrs.define(kw_only=True)
class Pdu:
    """A switched rack PDU in the rack of chassis ``chassis_id``; outlets numbered from 1."""

    id: str
    name: str
    datacenter_id: str
    chassis_id: str
    model: str
    serial: str
    outlets: list[Outlet] = attrs.field(factory=list)

    def outlet(self, number: int) -> Outlet | None:
        """The outlet numbered ``number``, None when the PDU has none."""
        return next((o for o in self.outlets if o.number == number), None)


def feed_of(world: World, server: Blade) -> tuple[Pdu, Outlet] | None:
    """The PDU and outlet that feed the physical server ``server``, None when none does."""
    for pdu in world.all(Pdu):
        for outlet in pdu.outlets:
            if outlet.server_id == server.id:
                return pdu, outlet
    return None


__all__ = ["KIND", "Outlet", "Pdu", "feed_of"]
