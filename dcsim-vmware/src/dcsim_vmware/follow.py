"""Makes the simulation follow what a vSphere client did in vCenter.

Called on the event loop with a VM as the watcher last saw it. Each difference from
the simulation becomes the same change through the engine's API (so the bus and the
node backend follow), unless it is dc-sim's own write coming back (an echo), which
is dropped: that is what keeps the two directions from looping. Power and placement
changes made here carry the reason ``vcenter``, so the other direction skips them.
"""

from __future__ import annotations

from typing import Any

import structlog

from dcsim.app import DcSim
from dcsim.errors import DcsimError
from dcsim.sim.model import GuestOs, Host, PowerState, Vm
from dcsim.sim.vms import VmRequest
from dcsim_vmware.vcenter import Echoes

log = structlog.get_logger(__name__)

#: The reason dc-sim gives changes that came from vCenter.
ORIGIN = "vcenter"
POWER_ACTIONS = {"poweredOn": "on", "poweredOff": "off", "suspended": "suspend"}
SIM_POWER = {"poweredOn": PowerState.ON, "poweredOff": PowerState.OFF, "suspended": PowerState.SUSPENDED}


class Follower:
    """Applies vCenter's VM states to the simulation."""

    def __init__(self, dcsim: DcSim, ids: dict[str, str], echoes: Echoes) -> None:
        self.dcsim = dcsim
        #: sim VM id -> vCenter VM id (shared with the reconciler)
        self.ids = ids
        self.echoes = echoes
        self._resets: dict[str, int] = {}
        self._current: dict[str, str | None] = {}

    def sim_id(self, moid: str) -> str | None:
        """The simulation's id of vCenter's VM ``moid``."""
        return next((sim_id for sim_id, known in self.ids.items() if known == moid), None)

    async def apply(self, moid: str, state: dict[str, Any] | None) -> None:
        """Make the simulation match vCenter's VM ``moid`` (None: it was destroyed)."""
        try:
            await self._apply(moid, state)
        except DcsimError as exc:
            # vCenter allowed what the simulation refuses (a hot resize, say): say so, go on.
            log.warning("vmware.not_followed", vm=moid, error=exc.detail)

    async def _apply(self, moid: str, state: dict[str, Any] | None) -> None:
        sim = self.dcsim.sim
        sim_id = self.sim_id(moid)
        if state is None:
            if sim_id is None:
                return
            del self.ids[sim_id]
            if self.echoes.consume(moid, "destroyed", True):
                return
            if sim.world.find(Vm, sim_id) is not None:
                await sim.destroy_vm(sim_id)
            return
        if not {"name", "power", "host", "cpu", "memory_mb"} <= set(state):
            return
        if sim_id is None or sim.world.find(Vm, sim_id) is None:
            sim_id = await self._adopt(moid, state)
            if sim_id is None:
                return
        vm = sim.world.get(Vm, sim_id)
        await self._rename(moid, vm, state["name"])
        power = state["power"]
        if power != "poweredOn":
            await self._power(moid, vm, power)
        await self._place(moid, vm, state["host"])
        await self._size(moid, vm, state["cpu"], state["memory_mb"])
        await self._snapshots(moid, vm, state.get("snapshots", []), state.get("current_snapshot"))
        if power == "poweredOn":
            await self._power(moid, vm, power)
        seen = self._resets.setdefault(moid, state["reset"])
        if state["reset"] > seen:
            self._resets[moid] = state["reset"]
            if vm.power_state is PowerState.ON:
                await sim.power(vm.id, "reset", reason=ORIGIN)

    async def _adopt(self, moid: str, state: dict[str, Any]) -> str | None:
        """Map a VM vCenter has and the mapping lacks: the simulation's VM of that name
        (one dc-sim just created), or a new one (a client created or cloned it)."""
        sim = self.dcsim.sim
        named = sim.world.find(Vm, state["name"])
        if named is not None and self.ids.get(named.id) in (None, moid):
            self.ids[named.id] = moid
            return named.id
        if self.echoes.consume(moid, "created", True):
            return None
        guest = GuestOs.UBUNTU22 if "ubuntu" in (state.get("guest_id") or "") else GuestOs.RHEL9
        request = VmRequest(
            name=state["name"],
            cpu=state["cpu"],
            memory_mb=state["memory_mb"],
            guest_os=guest,
            host=state["host"],
            power_on=state["power"] == "poweredOn",
        )
        vm = await sim.create_vm(request)
        self.ids[vm.id] = moid
        for name in state.get("snapshots", []):
            await sim.create_snapshot(vm.id, name)
        self._current[moid] = state.get("current_snapshot")
        log.info("vmware.vm_adopted", vm=vm.name, moid=moid)
        return vm.id

    async def _rename(self, moid: str, vm: Vm, name: str) -> None:
        if vm.name == name or self.echoes.consume(moid, "name", name):
            return
        sim = self.dcsim.sim
        async with sim.transaction() as change:
            old = vm.name
            sim.world.remove(vm)
            vm.name = name
            sim.world.add(vm)
            change.save(vm)
            change.event("vm.reconfigured", {"id": vm.id, "name": name, "changes": {"name": [old, name]}}, vm)

    async def _power(self, moid: str, vm: Vm, power: str) -> None:
        if vm.power_state is SIM_POWER[power] or self.echoes.consume(moid, "power", power):
            return
        await self.dcsim.sim.power(vm.id, POWER_ACTIONS[power], reason=ORIGIN)

    async def _place(self, moid: str, vm: Vm, host: str | None) -> None:
        current = self.dcsim.sim.world.get(Host, vm.host_id).name
        if host is None or current == host or self.echoes.consume(moid, "host", host):
            return
        await self.dcsim.sim.migrate(vm.id, host, reason=ORIGIN)

    async def _size(self, moid: str, vm: Vm, cpu: int, memory_mb: int) -> None:
        if (vm.cpu, vm.memory_mb) == (cpu, memory_mb) or self.echoes.consume(moid, "size", (cpu, memory_mb)):
            return
        await self.dcsim.sim.reconfigure(
            vm.id, cpu=cpu if cpu != vm.cpu else None, memory_mb=memory_mb if memory_mb != vm.memory_mb else None
        )

    async def _snapshots(self, moid: str, vm: Vm, names: list[str], current: str | None) -> None:
        sim = self.dcsim.sim
        have = [s.name for s in vm.snapshots]
        for name in names:
            if name not in have and not self.echoes.consume(moid, "snapshot", name):
                await sim.create_snapshot(vm.id, name)
        for name in have:
            if name not in names and not self.echoes.consume(moid, "snapshot-", name):
                await sim.delete_snapshot(vm.id, name)
        before = self._current.get(moid, current)
        self._current[moid] = current
        # The current snapshot moves on create and remove too; only with the same set of
        # snapshots does it mean a revert.
        if current is not None and current != before and sorted(names) == sorted(have):
            await sim.revert_snapshot(vm.id, current)


__all__ = ["ORIGIN", "Follower"]
