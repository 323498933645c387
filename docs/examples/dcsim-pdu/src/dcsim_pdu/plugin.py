"""Hook implementations of the `pdu` plugin, and nothing else.

The entry point ``pdu = "dcsim_pdu.plugin"`` in the group ``dcsim`` names this module.
Each function registers one piece of the PDU vendor with core through a registry;
the pieces themselves live in the modules next to this one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim import hookimpl

if TYPE_CHECKING:
    from dcsim.cmdb.mapping import InventoryGroupRegistry, MappingRegistry
    from dcsim.registry import CmdbTypeRegistry, EventTypeRegistry, RouteRegistry
    from dcsim.sim.faults import FaultRegistry
    from dcsim.sim.kinds import KindRegistry
    from dcsim.sim.labels import NodeLabelRegistry
    from dcsim.sim.topology import Topology


@hookimpl
def dcsim_sim_register_kinds(registry: KindRegistry) -> None:
    from dcsim_pdu.model import KIND, Pdu

    registry.add(KIND, Pdu, description="a switched rack PDU whose outlets feed physical servers")


@hookimpl
def dcsim_sim_register_fault_kinds(registry: FaultRegistry) -> None:
    from dcsim_pdu import faults

    registry.add(
        faults.FAULT_KIND,
        description=faults.DESCRIPTION,
        params=faults.PARAMS,
        types=faults.TYPES,
        inject=faults.inject_outlet_off,
        undo=faults.undo_outlet_off,
    )


@hookimpl
def dcsim_sim_register_node_labels(registry: NodeLabelRegistry) -> None:
    from dcsim_pdu.labels import pdu_labels

    registry.add(pdu_labels)


# trylast: the PDUs go into the racks of chassis that core and other plugins seeded.
# (An implementation may take fewer parameters than the hook offers: no settings here.)
@hookimpl(trylast=True)
def dcsim_sim_seed_topology(topology: Topology) -> None:
    from dcsim_pdu.seed import add_pdus

    add_pdus(topology)


@hookimpl
def dcsim_cmdb_register_types(registry: CmdbTypeRegistry) -> None:
    from dcsim_pdu.cmdb import CI_TYPE, INVERSE, RELATIONSHIP

    registry.add_ci_type(CI_TYPE, "a rack power distribution unit")
    registry.add_relationship_type(RELATIONSHIP, "an outlet of this PDU feeds the server", inverse=INVERSE)


@hookimpl
def dcsim_cmdb_register_mappings(registry: MappingRegistry) -> None:
    from dcsim.sim.model import Blade
    from dcsim_pdu.cmdb import amend_server, map_pdu
    from dcsim_pdu.model import Pdu

    registry.add(Pdu, map_pdu)
    registry.amend(Blade, amend_server)
    # An outlet switched off or on changes the PDU's CI (the servers' own events sync theirs).
    registry.add_sync_events(("pdu.*",))


@hookimpl
def dcsim_cmdb_register_inventory_groups(registry: InventoryGroupRegistry) -> None:
    from dcsim_pdu.cmdb import inventory_groups

    registry.add(inventory_groups)


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim_pdu.routes import PduController

    registry.add(PduController)


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    from dcsim_pdu.faults import OUTLET_EVENT, OUTLET_EVENT_DATA

    registry.add(OUTLET_EVENT, description="a PDU outlet was switched off or on", data=OUTLET_EVENT_DATA)
