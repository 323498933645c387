"""The simulation engine: the only writer of the world.

Every change goes the same way, under one lock: check the transition, change the
objects, save them in one store transaction, drive the node backend, then publish the
events. The engine is assembled from parts of one responsibility each: the core (lock,
commit, publish: ``dcsim.sim.core``), VM lifecycle (``dcsim.sim.vms``), placement
(``dcsim.sim.placement``), fault kinds (``dcsim.sim.faults``, ``dcsim.sim.core_faults``),
diff (``dcsim.sim.diff``) and the event catalogue (``dcsim.sim.events``). Vendor
adapters and the ``/sim`` API call its methods; nothing else writes.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from dcsim.convert import converter, to_json
from dcsim.errors import Conflict, NotFound
from dcsim.model import utcnow
from dcsim.sim.core import FAULTS_NAMESPACE, META_NAMESPACE, SOURCE
from dcsim.sim.diff import diff_states
from dcsim.sim.events import EVENT_TYPES, Change
from dcsim.sim.faults import Fault, new_fault
from dcsim.sim.kinds import KindRegistry
from dcsim.sim.model import Blade, PowerState, Vm
from dcsim.sim.topology import Topology
from dcsim.sim.vms import POWER_ACTIONS, VmLifecycle, VmRequest
from dcsim.sim.world import World

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

    from dcsim.app import DcSim
    from dcsim.settings import Settings

log = structlog.get_logger(__name__)


class Simulation(VmLifecycle):
    """The engine of one instance: ``dcsim.sim`` once the instance has started."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._timers: dict[str, asyncio.TimerHandle] = {}
        #: The Prometheus collector of simulated metrics while the instance runs.
        self.collector: Collector | None = None

    # Lifecycle ------------------------------------------------------------------------

    async def start(self, dcsim: DcSim) -> None:
        """Collect kinds, fault kinds and node labels from the plugins; load the world
        (seeding an empty store); start the nodes; re-arm fault timers."""
        self._dcsim = dcsim
        self.kinds = KindRegistry()
        dcsim.plugins.register_each("dcsim_sim_register_kinds", registry=self.kinds)
        self.fault_kinds = type(self.fault_kinds)()
        dcsim.plugins.register_each("dcsim_sim_register_fault_kinds", registry=self.fault_kinds)
        self.node_labels = type(self.node_labels)()
        dcsim.plugins.register_each("dcsim_sim_register_node_labels", registry=self.node_labels)
        store = dcsim.store
        if self.sync.shared:
            self.world = World(self.kinds)
            # Following first: a write another process commits while this one loads is
            # caught up with, not left until the next one.
            self.sync.start_following()
            # Under the world lock: processes starting together seed an empty store once.
            async with self._lock:
                await self.sync.load()
                if self._seed_if_empty():
                    await asyncio.to_thread(self._save_all)
        else:
            self.world = await asyncio.to_thread(World.load, store, self.kinds)
            if self._seed_if_empty():
                await asyncio.to_thread(self._save_all)
        documents = await asyncio.to_thread(store.list, FAULTS_NAMESPACE)
        self.faults = {doc.key: converter.structure(doc.value, Fault) for doc in documents}
        await self.nodes.start(self)
        await self.ensure_nodes()
        self.nodes_ready = True
        for fault in self.active_faults():
            if fault.expires_at is not None:
                self._arm_expiry(fault)

    def _seed_if_empty(self) -> bool:
        """Seed an empty world through the plugins' topology hooks; True when it did."""
        if len(self.world) != 0:
            return False
        topology = Topology(self.world, seed=self.settings.sim_seed)
        self.dcsim.call.sim_seed_topology(topology=topology, settings=self.settings)
        log.info("sim.seeded", objects=len(self.world), seed=self.settings.sim_seed)
        return True

    async def close(self) -> None:
        """Stop following other processes, timers and node watchers."""
        await self.sync.close()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        await self.nodes.close()

    def fault_changed(self, fault_id: str, fault: Fault) -> None:
        """Another process injected or cleared fault ``fault_id``: keep its record and
        its expiry timer (whichever process's timer fires first clears it, once)."""
        super().fault_changed(fault_id, fault)
        if fault.active and fault.expires_at is not None:
            if fault_id not in self._timers:
                self._arm_expiry(fault)
        elif fault_id in self._timers:
            self._timers.pop(fault_id).cancel()

    def fault_gone(self, fault_id: str) -> None:
        """A whole-world replacement removed fault ``fault_id``: forget it and its expiry
        timer (it must not clear, or undo, anything in the new world)."""
        super().fault_gone(fault_id)
        if fault_id in self._timers:
            self._timers.pop(fault_id).cancel()

    # Queries --------------------------------------------------------------------------

    def blade(self, ref: str) -> Blade:
        """A physical server by id or name."""
        return self.world.get(Blade, ref)

    def state(self) -> dict[str, Any]:
        """The whole world and the active faults as JSON (``GET /sim/state``)."""
        return {"objects": self.world.dump(), "faults": to_json(self.active_faults())}

    # Faults ---------------------------------------------------------------------------

    async def inject(self, kind: str, params: dict[str, Any]) -> Fault:
        """Inject a fault of a registered kind; see ``GET /sim/inject/kinds`` for the parameters."""
        fault_type = self.fault_kinds.get(kind)
        async with self._lock:
            fault = new_fault(kind, params)
            change = Change()
            fault_type.inject(self, fault, params, change)
            follow_ups, change.events = change.events, []
            # The injection event comes first: what follows is its consequence.
            self.add_fault(fault, change)
            change.events += follow_ups
            await self.commit(change)
            if fault.expires_at is not None:
                self._arm_expiry(fault)
            return fault

    async def clear_fault(self, fault_id: str, by: str = "api") -> Fault:
        """Clear an active fault, undoing what it broke."""
        async with self._lock:
            fault = self.faults.get(fault_id)
            if fault is None:
                raise NotFound(f"no fault {fault_id!r}")
            if not fault.active:
                raise Conflict(f"fault {fault_id} was already cleared at {fault.cleared_at}")
            timer = self._timers.pop(fault.id, None)
            if timer:
                timer.cancel()
            change = Change()
            if fault.kind in self.fault_kinds:
                self.fault_kinds.get(fault.kind).undo(self, fault, change)
            else:
                log.warning("sim.fault_kind_gone", kind=fault.kind, fault_id=fault.id, action="cleared, not undone")
            self.close_fault(fault, change, by)
            await self.commit(change)
            return fault

    def _arm_expiry(self, fault: Fault) -> None:
        assert fault.expires_at is not None
        delay = max(0.0, (fault.expires_at - utcnow()).total_seconds())
        loop = asyncio.get_running_loop()
        if fault.id in self._timers:
            self._timers[fault.id].cancel()
        self._timers[fault.id] = loop.call_later(delay, lambda: asyncio.ensure_future(self._expire(fault.id)))

    async def _expire(self, fault_id: str) -> None:
        self._timers.pop(fault_id, None)
        with contextlib.suppress(Conflict, NotFound):  # cleared by hand meanwhile
            await self.clear_fault(fault_id, by="expired")

    # Known-good mark ------------------------------------------------------------------

    async def mark_known_good(self) -> datetime:
        """Remember the current world as the known-good state ``diff`` compares against."""
        async with self._lock:
            marked = utcnow()
            value = {"marked_at": marked.isoformat(), "objects": self.world.dump()}
            await asyncio.to_thread(self.dcsim.store.put, META_NAMESPACE, "known-good", value)
            return marked

    async def diff(self) -> dict[str, Any]:
        """Field-level differences between the known-good mark and now."""
        document = await asyncio.to_thread(self.dcsim.store.find, META_NAMESPACE, "known-good")
        if document is None:
            raise NotFound("no known-good mark yet: POST /sim/state/mark first")
        return diff_states(document.value["objects"], self.world.dump(), document.value["marked_at"])

    # Node listener --------------------------------------------------------------------

    async def node_file_changed(self, node: str, path: str, diff: str) -> None:
        """Publish ``node.file_changed`` for a change the node backend saw."""
        owner = self.owner_of(node)
        data = {
            "node": node,
            "path": path,
            "diff": diff,
            "owner": f"{self.world.kind_of(owner)}/{owner.id}" if owner else None,
        }
        await self.dcsim.publish("node.file_changed", data, source=SOURCE, subject=f"node/{node}")

    async def node_power_observed(self, node: str, power_state: PowerState) -> None:
        """A node changed power outside dc-sim: make the world agree, and say so."""
        async with self._lock:
            owner = self.owner_of(node)
            if owner is None or owner.power_state is power_state:
                return
            change = Change()
            if isinstance(owner, Vm):
                before = owner.power_state
                owner.power_state = power_state
                change.save(owner)
                data = {"id": owner.id, "name": owner.name, "from": before.value, "to": power_state.value,
                        "reason": "external"}  # fmt: skip
                change.event("vm.power_changed", data, owner)
            else:
                kind, before = self.world.kind_of(owner), owner.power_state
                owner.power_state = power_state
                change.save(owner)
                data = {"id": owner.id, "name": owner.name, "from": before.value, "to": power_state.value,
                        "reason": "external"}  # fmt: skip
                change.event(f"{kind}.power_changed", data | self.node_labels.power_context(self.world, owner), owner)
                event_type = "host.recovered" if power_state is PowerState.ON else "host.degraded"
                health = getattr(owner, "status", None)
                status = {"reason": "external", "status": health.value if health is not None else None}
                change.event(event_type, {"kind": kind, **data} | status, owner)
            await self.commit(change)


__all__ = [
    "EVENT_TYPES",
    "FAULTS_NAMESPACE",
    "META_NAMESPACE",
    "POWER_ACTIONS",
    "SOURCE",
    "Simulation",
    "VmRequest",
]
