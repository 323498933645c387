"""The engine core: the lock, the change an action commits, saving, driving nodes, publishing.

This is the small API vendor packages build their operations on (see
``docs/internals-for-plugins.md``)::

    async with sim.transaction() as change:  # the engine's lock, one Change
        server = sim.world.get(Blade, "c01s01")
        server.power_state = PowerState.OFF
        change.save(server)
        change.drive(server)  # its node follows labels and power
        change.event("blade.power_changed", {...}, server)
    # saved with its events in one store transaction, node driven; the outbox relay
    # then publishes the events
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

import structlog

from dcsim.convert import converter, to_json
from dcsim.drivers import load_driver
from dcsim.errors import InvalidInput, NotFound
from dcsim.model import Event, utcnow
from dcsim.sim.events import Change, PendingEvent
from dcsim.sim.faults import Fault, FaultRegistry
from dcsim.sim.kinds import KindRegistry
from dcsim.sim.labels import NodeLabelRegistry
from dcsim.sim.model import PowerState, Vm
from dcsim.sim.nodes.base import NodeBackend, NodeSpec
from dcsim.sim.nodes.deferred import with_lazy_nodes
from dcsim.sim.sync import WorldLock, WorldSync
from dcsim.sim.world import World

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.settings import Settings

log = structlog.get_logger(__name__)

FAULTS_NAMESPACE = "sim.faults"
META_NAMESPACE = "sim.meta"
SOURCE = "/sim"


class EngineCore:
    """State and plumbing shared by the engine's parts; ``Simulation`` is the whole engine."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.kinds = KindRegistry()
        self.world = World(self.kinds)
        # Lazy nodes stay records even where the backend makes a container per node.
        self.nodes: NodeBackend = with_lazy_nodes(load_driver("dcsim.nodes", settings))
        self.fault_kinds = FaultRegistry()
        self.node_labels = NodeLabelRegistry()
        self.faults: dict[str, Fault] = {}
        #: The cross-process side of the world (journal, advisory lock, follower).
        self.sync = WorldSync(self)
        # The one lock of every change: across processes too on a shared store.
        self._lock = WorldLock(self.sync)
        self._dcsim: DcSim | None = None
        #: Set once ``start`` has started the node backend and made the world's nodes.
        self.nodes_ready = False

    @property
    def dcsim(self) -> DcSim:
        """The running instance; RuntimeError before ``start``."""
        if self._dcsim is None:
            raise RuntimeError("the simulation is not started")
        return self._dcsim

    # Queries --------------------------------------------------------------------------

    def active_faults(self) -> list[Fault]:
        """Faults not cleared yet, oldest first."""
        return sorted((f for f in self.faults.values() if f.active), key=lambda f: f.injected_at)

    def faults_touching(self, object_id: str) -> list[Fault]:
        """Active faults whose targets include ``object_id``."""
        return [fault for fault in self.active_faults() if fault.touches(object_id)]

    def node_owners(self) -> list[Any]:
        """Every world object that has a node (VMs, physical servers, a plugin's kinds)."""
        return [obj for _, objects in self.world.kinds() for obj in objects if getattr(obj, "node", None) is not None]

    def owner_of(self, node: str) -> Any | None:
        """The world object whose node is called ``node``."""
        return next((o for o in self.node_owners() if o.node.name == node), None)

    def node_spec(self, owner: Any) -> NodeSpec:
        """What the node of ``owner`` should be, with its labels (core's, the plugins', its own)."""
        if getattr(owner, "node", None) is None:
            raise InvalidInput(f"{owner.name} has no node")
        node = owner.node
        return NodeSpec(
            name=node.name,
            guest_os=node.guest_os,
            ssh_port=node.ssh_port,
            cpu=owner.cpu,
            memory_mb=owner.memory_mb,
            power_state=owner.power_state,
            labels=self.node_labels.labels(self.world, owner),
            ansible_user=node.ansible_user,
            authorized_keys=tuple(node.authorized_keys),
            lazy=node.lazy,
        )

    # Changing the world -----------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Change]:
        """Hold the engine's lock around one :class:`Change`, committed when the block ends.

        An exception in the block commits nothing (check before changing objects).
        """
        async with self._lock:
            change = Change()
            yield change
            await self.commit(change)

    async def commit(self, change: Change) -> None:
        """Save what ``change`` touched and its events (into the outbox) in one
        transaction, then drive its nodes.

        The events are committed with the objects, so they exist exactly when the
        change does (a crash after the commit loses none; the relay publishes them).
        Call it with the lock held (inside :meth:`transaction`, a fault's inject or undo).
        """
        events = [self.event(event_type, data, subject) for event_type, data, subject in change.events]
        await self._save(_unique(change.objects), change.removed, _unique(change.faults), events)
        for step in change.node_steps:
            if step[0] == "drive":
                await self.drive_node(step[1])
            else:
                await self.nodes.set_power(step[1], step[2])

    async def drive_node(self, owner: Any) -> None:
        """Bring the node of ``owner`` to its labels and power state (made again if it was lost)."""
        if getattr(owner, "node", None) is None:
            return
        spec = self.node_spec(owner)
        try:
            await self.nodes.set_labels(spec.name, spec.labels)
        except NotFound:
            await self.nodes.ensure(spec)  # lost meanwhile: made again, with these labels
        else:
            await self.nodes.set_power(spec.name, spec.power_state)

    async def ensure_nodes(self) -> None:
        """Make every node owner's node exist, at its power state and (objects other than
        VMs) with its labels: at start, and after the whole world was read again."""
        for owner in self.node_owners():
            spec = self.node_spec(owner)
            await self.nodes.ensure(spec)
            # Labels that follow a plugin's objects (a server's profile) may have been
            # saved just before a crash, or by a replaced world: they reach the node here.
            if not isinstance(owner, Vm) and await self.nodes.labels(spec.name) != spec.labels:
                await self.nodes.set_labels(spec.name, spec.labels)

    async def publish(self, event_type: str, data: dict[str, Any], subject: Any) -> None:
        """Publish a simulation event about ``subject`` (a world object or a fault) on its
        own; events of a change go with the change (:meth:`Change.event`)."""
        await asyncio.to_thread(self.dcsim.store.add_event, self.event(event_type, data, subject))

    def event(self, event_type: str, data: dict[str, Any], subject: Any) -> Event:
        """A simulation event about ``subject`` (a world object or a fault), not yet published."""
        kind = "fault" if isinstance(subject, Fault) else self.world.kind_of(subject)
        return self.dcsim.event(event_type, data, source=SOURCE, subject=f"{kind}/{subject.id}")

    def add_fault(self, fault: Fault, change: Change) -> None:
        """Record ``fault`` (already applied to the world) as injected, within ``change``."""
        self.faults[fault.id] = fault
        change.faults.append(fault)
        change.event("fault.injected", {"fault": to_json(fault)}, fault)
        log.info("sim.fault_injected", kind=fault.kind, fault_id=fault.id, targets=[t.name for t in fault.targets])

    def close_fault(self, fault: Fault, change: Change, by: str) -> None:
        """Record ``fault`` (already undone in the world) as cleared by ``by``, within ``change``."""
        fault.cleared_at, fault.cleared_by = utcnow(), by
        change.faults.append(fault)
        change.event("fault.cleared", {"fault": to_json(fault)}, fault)

    def set_vm_power(self, vm: Vm, target: PowerState, reason: str, change: Change) -> PendingEvent:
        """Set ``vm``'s power within ``change`` (node power step and ``vm.power_changed``)."""
        before = vm.power_state
        vm.power_state = target
        change.save(vm)
        if vm.node is not None:
            change.power(vm.node.name, target)
        event: PendingEvent = (
            "vm.power_changed",
            {"id": vm.id, "name": vm.name, "from": before.value, "to": target.value, "reason": reason},
            vm,
        )
        change.events.append(event)
        return event

    # Persistence ------------------------------------------------------------------------

    async def _save(
        self,
        objects: Iterable[Any] = (),
        removed: Iterable[Any] = (),
        faults: Iterable[Fault] = (),
        events: Iterable[Event] = (),
    ) -> None:
        objects, removed, faults, events = list(objects), list(removed), list(faults), list(events)

        def write() -> int | None:
            with self.dcsim.store.transaction() as session:
                self.world.save(session, objects, removed)
                for fault in faults:
                    session.put(FAULTS_NAMESPACE, fault.id, converter.unstructure(fault))
                for event in events:
                    session.add_event(event)
                return self.sync.record(session, objects, removed, faults)

        try:
            sequence = await asyncio.to_thread(write)
        except BaseException:
            # The objects were changed in memory and the store refused them: the next
            # catch-up (shared store) puts the world back to what is committed.
            self.sync.stale = True
            raise
        self.sync.committed(sequence)

    def _save_all(self) -> None:
        with self.dcsim.store.transaction() as session:
            self.world.save_all(session)
            sequence = self.sync.record(session, [obj for _, objs in self.world.kinds() for obj in objs], (), ())
        self.sync.committed(sequence)

    def fault_changed(self, fault_id: str, fault: Fault) -> None:
        """Another process injected, changed or cleared fault ``fault_id``: keep its record."""
        self.faults[fault_id] = fault

    def fault_gone(self, fault_id: str) -> None:
        """Fault ``fault_id`` is no longer stored (a whole-world replacement removed it with
        the world it broke): forget it, without undoing anything or saying so."""
        self.faults.pop(fault_id, None)


def _unique(objects: list[Any]) -> list[Any]:
    """``objects`` without repeats (by identity), in order."""
    return list({id(obj): obj for obj in objects}.values())


__all__ = ["FAULTS_NAMESPACE", "META_NAMESPACE", "SOURCE", "EngineCore"]
