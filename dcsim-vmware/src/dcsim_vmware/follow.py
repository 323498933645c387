"""Makes the simulation follow what a vSphere client did in vCenter.

Called on the event loop with a VM as the watcher last saw it. Each difference from
the simulation becomes the same change through the engine's API (so the bus and the
node backend follow), unless it is dc-sim's own write coming back (an echo), which
is dropped: that is what keeps the two directions from looping. Power and placement
changes made here carry the reason ``vcenter``, so the other direction skips them.
"""

from __future__ import annotations

import time
from typing import Any

import attrs
import structlog

from dcsim.app import DcSim
from dcsim.errors import DcsimError
from dcsim.sim.model import GuestOs, Host, PowerState, Vm
from dcsim.sim.vms import VmRequest
from dcsim_vmware.agreement import Agreement
from dcsim_vmware.desired import read_vm
from dcsim_vmware.vcenter import Echoes

log = structlog.get_logger(__name__)

#: The reason dc-sim gives changes that came from vCenter.
ORIGIN = "vcenter"
#: How long a reset's own power off and on may take to be seen.
RESET_SECONDS = 5.0
POWER_ACTIONS = {"poweredOn": "on", "poweredOff": "off", "suspended": "suspend"}
SIM_POWER = {"poweredOn": PowerState.ON, "poweredOff": PowerState.OFF, "suspended": PowerState.SUSPENDED}


class Follower:
    """Applies vCenter's VM states to the simulation."""

    def __init__(
        self, dcsim: DcSim, ids: dict[str, str], agreement: Agreement, echoes: Echoes, adopting: set[str]
    ) -> None:
        self.dcsim = dcsim
        #: sim VM id -> vCenter VM id (shared with the reconciler)
        self.ids = ids
        #: what dc-sim and vCenter last agreed each VM is: recorded here after every update
        self.agreement = agreement
        self.echoes = echoes
        #: names of VMs vCenter made that the simulation is being given: not the reconciler's to create
        self.adopting = adopting
        self._counts: dict[tuple[str, str], int] = {}
        #: vCenter VM id -> the state last followed
        self._seen: dict[str, dict[str, Any]] = {}
        #: vCenter VM id -> (phase of a reset: "off" or "on" awaited, until when)
        self._resetting: dict[str, tuple[str, float]] = {}
        #: vCenter VM id -> (CPU, memory, until when) a revert gave it in the simulation
        self._pinned: dict[str, tuple[int, int, float]] = {}

    def sim_id(self, moid: str) -> str | None:
        """The simulation's id of vCenter's VM ``moid``."""
        return next((sim_id for sim_id, known in self.ids.items() if known == moid), None)

    async def apply(self, moid: str, state: dict[str, Any] | None) -> None:
        """Make the simulation match vCenter's VM ``moid`` (None: it was destroyed)."""
        try:
            # The simulation's change and its record as agreed, with no sync's plan between.
            async with self.agreement.lock:
                await self._apply(moid, state)
        except DcsimError as exc:
            # vCenter allowed what the simulation refuses (a hot resize, say): say so, go on.
            log.warning("vmware.not_followed", vm=moid, error=exc.detail)

    async def _apply(self, moid: str, state: dict[str, Any] | None) -> None:
        await self._follow(moid, state)
        sim_id = self.sim_id(moid)
        vm = self.dcsim.sim.world.find(Vm, sim_id) if sim_id else None
        if vm is not None and state is not None:
            self._agree(vm, state)

    def _agree(self, vm: Vm, state: dict[str, Any]) -> None:
        """Record what vCenter shows now as agreed (a new version of the VM): the
        reconciler writes what the simulation has that differs from it later on (a
        revert's size, say), never vCenter's news back."""
        spec = read_vm(self.dcsim.sim.world, vm)
        if spec is not None and {"name", "power", "host", "cpu", "memory_mb"} <= set(state):
            self.agreement.observe(
                attrs.evolve(
                    spec,
                    name=state["name"],
                    power=state["power"],
                    host=state["host"],
                    cpu=state["cpu"],
                    memory_mb=state["memory_mb"],
                    snapshots=tuple(state.get("snapshots", [])),
                )
            )

    async def _follow(self, moid: str, state: dict[str, Any] | None) -> None:
        sim = self.dcsim.sim
        sim_id = self.sim_id(moid)
        if state is None:
            if sim_id is None:
                return
            del self.ids[sim_id]
            self._seen.pop(moid, None)
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
        previous = self._seen.get(moid)
        self._seen[moid] = state

        def news(field: str) -> bool:
            # Only what changed in vCenter since its last update: a state in the middle
            # of dc-sim's own writes (off, moved, on) is not a client's change.
            return previous is None or previous.get(field) != state.get(field)

        if self._counted(moid, state, "reset"):
            # A reset is a power off and on inside one vCenter task: one reset here.
            self._resetting[moid] = ("off", time.monotonic() + RESET_SECONDS)
            if vm.power_state is PowerState.ON:
                await sim.power(vm.id, "reset", reason=ORIGIN)
        if news("name"):
            await self._rename(moid, vm, state["name"])
        power = state["power"]
        if power != "poweredOn" and news("power"):
            await self._power(moid, vm, power)
        if news("host"):
            await self._place(moid, vm, state["host"])
        if news("cpu") or news("memory_mb"):
            await self._size(moid, vm, state["cpu"], state["memory_mb"])
        if news("snapshots"):
            await self._snapshots(moid, vm, state.get("snapshots", []))
        current = state.get("current_snapshot")
        if self._counted(moid, state, "revert") and current in {s.name for s in vm.snapshots}:
            await sim.revert_snapshot(vm.id, current)
            # The simulator's revert leaves the VM's size as it was; the reconciler writes
            # the reverted size, and until vCenter shows it, its old size is not news.
            self._pinned[moid] = (vm.cpu, vm.memory_mb, time.monotonic() + RESET_SECONDS)
        if power == "poweredOn" and news("power"):
            await self._power(moid, vm, power)

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
        self.adopting.add(request.name)
        try:
            vm = await sim.create_vm(request)
            self.ids[vm.id] = moid
            self._agree(vm, state)  # with the mapping, so no sync sees one without the other
        finally:
            self.adopting.discard(request.name)
        for name in state.get("snapshots", []):
            await sim.create_snapshot(vm.id, name)
        log.info("vmware.vm_adopted", vm=vm.name, moid=moid)
        return vm.id

    async def _rename(self, moid: str, vm: Vm, name: str) -> None:
        echo = self.echoes.consume(moid, "name", name)  # consumed even when already equal
        if vm.name == name or echo:
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
        phase, until = self._resetting.get(moid, ("", 0.0))
        if phase and time.monotonic() < until:
            # The reset's own power off, then its power on (which ends it).
            if power == "poweredOff":
                self._resetting[moid] = ("on", until)
            elif phase == "on":
                del self._resetting[moid]
            return
        echo = self.echoes.consume(moid, "power", power)
        if vm.power_state is SIM_POWER[power] or echo:
            return
        await self.dcsim.sim.power(vm.id, POWER_ACTIONS[power], reason=ORIGIN)

    async def _place(self, moid: str, vm: Vm, host: str | None) -> None:
        current = self.dcsim.sim.world.get(Host, vm.host_id).name
        echo = self.echoes.consume(moid, "host", host)
        if host is None or current == host or echo:
            return
        await self.dcsim.sim.migrate(vm.id, host, reason=ORIGIN)

    async def _size(self, moid: str, vm: Vm, cpu: int, memory_mb: int) -> None:
        pinned = self._pinned.get(moid)
        if pinned is not None and time.monotonic() < pinned[2]:
            if (cpu, memory_mb) == pinned[:2]:
                del self._pinned[moid]
            return
        echo = self.echoes.consume(moid, "size", (cpu, memory_mb))
        if (vm.cpu, vm.memory_mb) == (cpu, memory_mb) or echo:
            return
        await self.dcsim.sim.reconfigure(
            vm.id, cpu=cpu if cpu != vm.cpu else None, memory_mb=memory_mb if memory_mb != vm.memory_mb else None
        )

    def _counted(self, moid: str, state: dict[str, Any], counter: str) -> bool:
        """Whether ``counter`` (tasks of a kind) grew since the last state of ``moid``."""
        seen = self._counts.setdefault((moid, counter), state[counter])
        self._counts[(moid, counter)] = state[counter]
        return bool(state[counter] > seen)

    async def _snapshots(self, moid: str, vm: Vm, names: list[str]) -> None:
        sim = self.dcsim.sim
        have = [s.name for s in vm.snapshots]
        for name in names:
            echo = self.echoes.consume(moid, "snapshot", name)
            if name not in have and not echo:
                await sim.create_snapshot(vm.id, name)
        for name in set(have) | set(names):
            echo = name not in names and self.echoes.consume(moid, "snapshot-", name)
            if name in have and name not in names and not echo:
                await sim.delete_snapshot(vm.id, name)


__all__ = ["ORIGIN", "Follower"]
