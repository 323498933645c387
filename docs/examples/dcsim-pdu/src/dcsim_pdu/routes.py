"""``/pdu/api/v1``: the PDUs and their outlets as JSON, read from the simulation's world.

Typed responses (attrs classes), so the OpenAPI document at ``/schema`` shows every
field; the list is core's ``Page[T]`` with ``LimitQuery``/``OffsetQuery`` and every
operation documents the problem answers it can give (``dcsim.web.contracts``, SPEC-010).
"""

from __future__ import annotations

import attrs
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from dcsim.app import DcSim
from dcsim.sim.model import Blade, Chassis, Datacenter
from dcsim.sim.world import World
from dcsim.web.contracts import LimitQuery, OffsetQuery, Page, page, responses
from dcsim_pdu.model import Outlet, Pdu


@attrs.frozen
class OutletView:
    """An outlet: its number, whether it is on, and the server and node it feeds."""

    number: int
    powered: bool
    server: str | None
    node: str | None


@attrs.frozen
class PduView:
    """A PDU as ``/pdu/api/v1`` shows it: names instead of ids."""

    id: str
    name: str
    datacenter: str
    chassis: str
    model: str
    serial: str
    outlets: list[OutletView]


def _outlet_view(world: World, outlet: Outlet) -> OutletView:
    server = world.get(Blade, outlet.server_id) if outlet.server_id else None
    node = server.node.name if server is not None and server.node is not None else None
    return OutletView(outlet.number, outlet.powered, server.name if server else None, node)


def pdu_view(world: World, pdu: Pdu) -> PduView:
    """The representation of ``pdu``."""
    return PduView(
        id=pdu.id,
        name=pdu.name,
        datacenter=world.get(Datacenter, pdu.datacenter_id).name,
        chassis=world.get(Chassis, pdu.chassis_id).name,
        model=pdu.model,
        serial=pdu.serial,
        outlets=[_outlet_view(world, outlet) for outlet in pdu.outlets],
    )


class PduController(Controller):
    """The PDUs of the estate, with the state of each outlet."""

    path = "/pdu/api/v1/pdus"
    tags = ["pdu"]

    @get("/", summary="PDUs, by name, paginated", responses=responses())
    async def list_pdus(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[PduView]:
        world = dcsim.sim.world
        found = page(sorted(world.all(Pdu), key=lambda pdu: pdu.name), limit, offset)
        return Page(items=[pdu_view(world, pdu) for pdu in found.items], total=found.total, limit=limit, offset=offset)

    @get("/{pdu:str}", summary="One PDU, by name or id", responses=responses(404))
    async def get_pdu(self, dcsim: NamedDependency[DcSim], pdu: FromPath[str]) -> PduView:
        world = dcsim.sim.world
        return pdu_view(world, world.get(Pdu, pdu))


__all__ = ["OutletView", "PduController", "PduView", "pdu_view"]
