"""The ``/vcenter`` REST convenience API (vSphere Automation style, dc-sim's conventions):
the simulation's vSphere inventory and VMs. See specs/011-vmware.md."""

from __future__ import annotations

from dcsim_vmware.rest.inventory import InventoryController
from dcsim_vmware.rest.vms import VmController

#: The route handlers ``dcsim_register_routes`` adds.
HANDLERS = (InventoryController, VmController)

__all__ = ["HANDLERS", "InventoryController", "VmController"]
