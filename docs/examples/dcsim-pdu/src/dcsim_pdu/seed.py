"""The PDU's seed contribution: a PDU in the rack of every chassis, one outlet per slot.

In the default estate that is ``pdu-01`` in the rack of ``chassis-01``, whose outlets
1 to 3 feed the physical servers in slots 1 to 3 (``c01s01`` .. ``c01s03``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.sim.model import Blade, Chassis
from dcsim_pdu.model import KIND, Outlet, Pdu

if TYPE_CHECKING:
    from dcsim.sim.topology import Topology

#: The model name of the seeded PDUs.
MODEL = "switched-pdu-8"


def add_pdus(topology: Topology) -> list[Pdu]:
    """Add a PDU for every chassis of the estate so far; outlet N feeds the server in slot N."""
    world = topology.world
    servers = world.all(Blade)
    added: list[Pdu] = []
    for index, chassis in enumerate(world.all(Chassis), start=1):
        name = f"pdu-{index:02d}"
        by_slot = {server.slot: server.id for server in servers if server.chassis_id == chassis.id}
        pdu = Pdu(
            id=topology.id(KIND, name),
            name=name,
            datacenter_id=chassis.datacenter_id,
            chassis_id=chassis.id,
            model=MODEL,
            serial=topology.serial(name, "PDU"),
            outlets=[Outlet(number=n, server_id=by_slot.get(n)) for n in range(1, chassis.slots + 1)],
        )
        topology.add(pdu)
        added.append(pdu)
    return added


__all__ = ["MODEL", "add_pdus"]
