"""Server actions (``POST /servers/{id}/action``): power and createImage, on the engine.

Each action checks the state Nova requires first (a 409 ``conflictingRequest`` naming the
state otherwise, as Nova's "Cannot 'stop' instance ... while it is in vm_state stopped"),
then changes core's VM power in one engine transaction, so the node follows and
``vm.power_changed`` is published. Pause and suspend are both core's suspended power
state; the server's record remembers which one it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.model import new_id, utcnow
from dcsim.sim.model import Image, PowerState, Vm
from dcsim_openstack.auth import Credentials
from dcsim_openstack.compute.model import ServerRecord
from dcsim_openstack.compute.servers import ensure_record, find_server
from dcsim_openstack.compute.states import server_state
from dcsim_openstack.errors import OpenStackError

if TYPE_CHECKING:
    from dcsim.app import DcSim

#: Action name to (Nova statuses it may start from, core power state it ends in, record vm_state).
POWER_ACTIONS: dict[str, tuple[frozenset[str], PowerState, str]] = {
    "os-start": (frozenset({"SHUTOFF"}), PowerState.ON, "active"),
    "os-stop": (frozenset({"ACTIVE", "PAUSED", "SUSPENDED", "ERROR"}), PowerState.OFF, "stopped"),
    "pause": (frozenset({"ACTIVE"}), PowerState.SUSPENDED, "paused"),
    "unpause": (frozenset({"PAUSED"}), PowerState.ON, "active"),
    "suspend": (frozenset({"ACTIVE"}), PowerState.SUSPENDED, "suspended"),
    "resume": (frozenset({"SUSPENDED"}), PowerState.ON, "active"),
}
#: Nova's statuses a reboot may start from, by type.
REBOOT_FROM = {
    "SOFT": frozenset({"ACTIVE"}),
    "HARD": frozenset({"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED", "ERROR"}),
}
#: Every action this module answers.
ACTIONS = frozenset(POWER_ACTIONS) | {"reboot", "createImage"}


def _conflict(action: str, vm: Vm, vm_state: str) -> OpenStackError:
    return OpenStackError(409, f"Cannot '{action}' instance {vm.id} while it is in vm_state {vm_state}")


async def power_action(dcsim: DcSim, creds: Credentials, server_id: str, action: str, args: Any) -> None:
    """Run ``action`` (``os-start``, ``os-stop``, ``pause``, ``unpause``, ``suspend``,
    ``resume`` or ``reboot`` with ``{"type": "SOFT"|"HARD"}``) on a server."""
    sim = dcsim.sim
    async with sim.transaction() as change:
        vm = find_server(sim.world, creds, server_id)
        record = sim.world.find(ServerRecord, vm.id)
        state = server_state(sim.world, vm, record)
        if action == "reboot":
            kind = args.get("type") if isinstance(args, dict) else None
            if kind not in REBOOT_FROM:
                raise OpenStackError(400, f"Invalid input for field/attribute type. Value: {kind}.")
            if state.status not in REBOOT_FROM[kind] or state.host_status != "UP":
                raise _conflict("reboot", vm, state.vm_state)
            record = ensure_record(sim.world, change, vm)
            record.vm_state, record.updated_at = "active", utcnow()
            if vm.node is not None and vm.power_state is not PowerState.OFF:
                # A reboot restarts the guest: off, then on again.
                change.power(vm.node.name, PowerState.OFF)
            sim.set_vm_power(vm, PowerState.ON, "reboot_hard" if kind == "HARD" else "reboot", change)
            return
        allowed, target, vm_state = POWER_ACTIONS[action]
        if state.status not in allowed or (target is not PowerState.OFF and state.host_status != "UP"):
            raise _conflict(action, vm, state.vm_state)
        record = ensure_record(sim.world, change, vm)
        record.vm_state, record.updated_at = vm_state, utcnow()
        sim.set_vm_power(vm, target, action, change)


async def create_image(dcsim: DcSim, creds: Credentials, server_id: str, args: Any) -> str:
    """``createImage``: an image of the server (a core image of its guest OS) and a
    snapshot of its VM; returns the image's id."""
    if not isinstance(args, dict) or not isinstance(args.get("name"), str) or not args["name"].strip():
        raise OpenStackError(400, "Invalid input for field/attribute createImage. Value: a name is required.")
    name = args["name"]
    sim = dcsim.sim
    async with sim.transaction() as change:
        vm = find_server(sim.world, creds, server_id)
        if sim.world.find(Image, name) is not None:
            raise OpenStackError(409, f"An image named {name} already exists.")
        guest = vm.node.guest_os if vm.node else sim.world.get(Image, vm.image or "").guest_os
        size = sum(d.size_gb for d in vm.disks) or 1
        image = Image(id=new_id(), name=name, guest_os=guest, min_disk_gb=size)
        sim.world.add(image)
        change.save(image)
    await sim.create_snapshot(vm.id, f"image-{image.id}", description=f"createImage {name}")
    return image.id


__all__ = ["ACTIONS", "POWER_ACTIONS", "REBOOT_FROM", "create_image", "power_action"]
