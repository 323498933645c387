"""The ``pdu-outlet-off`` fault: an outlet loses power, and so does what it feeds.

The outlet's server fails and loses power, the hypervisor host on it (if any) fails,
its VMs go down and, with HA on, restart elsewhere. That cascade is core's
(``dcsim.sim.core_faults.fail_blade`` / ``fail_host``): this module only switches the
outlet and hands the server to it. Clearing the fault switches the outlet back on and
recovers the server and host the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.errors import Conflict, InvalidInput
from dcsim.sim.core_faults import fail_blade, fail_host, recover_blade, recover_host
from dcsim.sim.faults import Target, required
from dcsim.sim.model import Blade, HealthStatus, Host
from dcsim_pdu.model import KIND, Outlet, Pdu

if TYPE_CHECKING:
    from dcsim.sim.engine import Simulation
    from dcsim.sim.events import Change
    from dcsim.sim.faults import Fault

#: The fault kind's name: ``POST /sim/inject/pdu-outlet-off``.
FAULT_KIND = "pdu-outlet-off"
#: What ``GET /sim/inject/kinds`` says about it.
DESCRIPTION = "a PDU outlet loses power: the server it feeds fails, its host and VMs with it (HA restarts them)"
PARAMS = {"pdu": "PDU name or id", "outlet": "outlet number (an integer from 1)"}
#: The parameters that are not text: ``POST /sim/inject/pdu-outlet-off`` refuses others (422).
TYPES = {"outlet": int}

#: The event published when an outlet is switched off or on, and its documented data.
OUTLET_EVENT = "pdu.outlet_changed"
OUTLET_EVENT_DATA = {
    "id": "PDU id",
    "name": "PDU name",
    "outlet": "outlet number",
    "powered": "true when the outlet is on again",
    "server": "name of the server the outlet feeds, or null",
    "fault_id": "the fault that switched it",
}


def _outlet_number(params: dict[str, Any]) -> int:
    number = params.get("outlet")
    # bool is an int in Python; an outlet is not True.
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise InvalidInput("'outlet' must be an outlet number (an integer from 1)")
    return number


def _switch(sim: Simulation, fault: Fault, pdu: Pdu, outlet: Outlet, powered: bool, change: Change) -> None:
    outlet.powered = powered
    server = sim.world.get(Blade, outlet.server_id) if outlet.server_id else None
    change.save(pdu)
    data = {"id": pdu.id, "name": pdu.name, "outlet": outlet.number, "powered": powered,
            "server": server.name if server else None, "fault_id": fault.id}  # fmt: skip
    change.event(OUTLET_EVENT, data, pdu)


def inject_outlet_off(sim: Simulation, fault: Fault, params: dict[str, Any], change: Change) -> None:
    """Switch the outlet off; its server (and the host on it) fail through core's cascade."""
    pdu = sim.world.get(Pdu, required(params, "pdu"))
    number = _outlet_number(params)
    outlet = pdu.outlet(number)
    if outlet is None:
        raise InvalidInput(f"{pdu.name} has no outlet {number} (it has {len(pdu.outlets)})")
    if not outlet.powered:
        raise Conflict(f"outlet {number} of {pdu.name} is already off")
    server = sim.world.get(Blade, outlet.server_id) if outlet.server_id else None
    host = sim.world.host_on_blade(server) if server else None
    # Check everything before changing anything: a refused fault leaves no trace.
    for down in (server, host):
        if down is not None and down.status is HealthStatus.FAILED:
            raise Conflict(f"{down.name} has already failed")
    fault.targets.append(Target(KIND, pdu.id, pdu.name))
    fault.restore["outlet"] = number
    fault.effects.append(f"outlet {number} of {pdu.name} switched off")
    _switch(sim, fault, pdu, outlet, False, change)
    if server is not None:
        fail_blade(sim, fault, server, f"power loss: outlet {number} of {pdu.name} is off", change)
    if host is not None:
        fail_host(sim, fault, host, "physical server lost power", change)


def undo_outlet_off(sim: Simulation, fault: Fault, change: Change) -> None:
    """Switch the outlet back on; the server and its host are ok again (VMs stay where HA put them)."""
    for target in fault.targets:
        if target.kind == KIND:
            pdu = sim.world.get(Pdu, target.id)
            outlet = pdu.outlet(int(fault.restore["outlet"]))
            assert outlet is not None  # outlets are never removed
            _switch(sim, fault, pdu, outlet, True, change)
        elif target.kind == "blade":
            recover_blade(sim, fault, sim.world.get(Blade, target.id), change)
        elif target.kind == "host":
            recover_host(sim, fault, sim.world.get(Host, target.id), change)


__all__ = ["DESCRIPTION", "FAULT_KIND", "OUTLET_EVENT", "OUTLET_EVENT_DATA", "PARAMS", "inject_outlet_off",
           "undo_outlet_off"]  # fmt: skip
