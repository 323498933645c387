"""vCenter -> simulation: one PropertyCollector ``WaitForUpdatesEx`` over a container
view of every VM (no per-object polling), in a thread of its own.

The thread turns each update into a plain description of the VM as vCenter now shows
it (names, not managed object references) and hands it to the event loop, where
:mod:`dcsim_vmware.follow` makes the simulation match. A reset is seen through the VM's
recent tasks, and so is a revert (:data:`TASK_COUNTERS`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from pyVmomi import vim, vmodl

from dcsim_vmware.inventory import snapshot_tree
from dcsim_vmware.vcenter import connect, disconnect

log = structlog.get_logger(__name__)

PATHS = [
    "name",
    "runtime.powerState",
    "runtime.host",
    "config.hardware.numCPU",
    "config.hardware.memoryMB",
    "config.guestId",
    "config.changeVersion",
    "snapshot",
    "rootSnapshot",
    "snapshot.currentSnapshot",
    "recentTask",
]

#: Tasks counted in a VM's state: a reset is a power off and on within one task, and a
#: revert changes nothing the simulator announces when the snapshot was the current one.
TASK_COUNTERS = {
    "VirtualMachine.reset": "reset",
    "VirtualMachine.revertToSnapshot": "revert",
    "VirtualMachine.revertSnapshot": "revert",
}

#: What the loop receives: (vCenter VM id, its state, or None when it is gone).
Apply = Callable[[str, dict[str, Any] | None], Coroutine[Any, Any, None]]


class Watcher:
    """Follows every VM of one vCenter until stopped or the connection drops."""

    def __init__(self, url: str, username: str, password: str, loop: asyncio.AbstractEventLoop, apply: Apply) -> None:
        self.url, self.username, self.password = url, username, password
        self.loop = loop
        self.apply = apply
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vmware-watcher", daemon=True)
        self._state: dict[str, dict[str, Any]] = {}
        self._seen_tasks: set[str] = set()
        self.error: BaseException | None = None

    def start(self) -> None:
        """Start following; :attr:`ready` is set once the first update was applied."""
        self._thread.start()

    def stop(self) -> None:
        """Stop following (the thread ends within a second)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end."""
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the thread still follows vCenter."""
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            si = connect(self.url, self.username, self.password)
        except Exception as exc:
            self.error = exc
            self.ready.set()
            return
        try:
            self._follow(si)
        except Exception as exc:
            if not self._stop.is_set():
                self.error = exc
                log.warning("vmware.watcher_stopped", error=str(exc))
        finally:
            self.ready.set()
            disconnect(si)

    def _follow(self, si: vim.ServiceInstance) -> None:
        content = si.RetrieveContent()
        collector = content.propertyCollector.CreatePropertyCollector()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        traversal = vmodl.query.PropertyCollector.TraversalSpec(
            name="view", path="view", skip=False, type=vim.view.ContainerView
        )
        spec = vmodl.query.PropertyCollector.FilterSpec(
            objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[traversal])],
            propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vim.VirtualMachine, pathSet=PATHS)],
        )
        collector.CreateFilter(spec, partialUpdates=True)
        options = vmodl.query.PropertyCollector.WaitOptions(maxWaitSeconds=1)
        version = ""
        while not self._stop.is_set():
            update = collector.WaitForUpdatesEx(version, options)
            if update is None:
                self.ready.set()
                continue
            version = update.version
            for filter_update in update.filterSet:
                for change in filter_update.objectSet:
                    self._handle(change)
            self.ready.set()

    def _handle(self, change: vmodl.query.PropertyCollector.ObjectUpdate) -> None:
        moid = change.obj._moId
        if change.kind == "leave":
            self._state.pop(moid, None)
            self._send(moid, None)
            return
        entered = moid not in self._state
        state = self._state.setdefault(moid, {"reset": 0, "revert": 0})
        for prop in change.changeSet:
            value = prop.val if prop.op != "remove" else None
            if prop.name == "name":
                state["name"] = value
            elif prop.name == "runtime.powerState":
                state["power"] = str(value)
            elif prop.name == "runtime.host":
                state["host"] = value.name if value is not None else None
            elif prop.name == "config.hardware.numCPU":
                state["cpu"] = value
            elif prop.name == "config.hardware.memoryMB":
                state["memory_mb"] = value
            elif prop.name == "config.changeVersion":
                # The simulator announces a reconfigure by its change version only: read the size.
                hardware = self._hardware(change.obj)
                if hardware is not None:
                    state["cpu"], state["memory_mb"] = hardware
            elif prop.name == "config.guestId":
                state["guest_id"] = value
            elif prop.name in ("snapshot", "rootSnapshot", "snapshot.currentSnapshot"):
                # The simulator announces snapshot changes by sub-path: read the whole tree.
                value = self._snapshot(change.obj) if prop.name != "snapshot" else value
                tree = snapshot_tree(value)
                state["snapshots"] = sorted(tree)
                current = value.currentSnapshot._moId if value is not None and value.currentSnapshot else None
                state["current_snapshot"] = next((n for n, s in tree.items() if s._moId == current), None)
            elif prop.name == "recentTask":
                for kind in self._new_tasks(value or []):
                    if not entered and kind in TASK_COUNTERS:
                        state[TASK_COUNTERS[kind]] += 1
        self._send(moid, dict(state))

    @staticmethod
    def _snapshot(vm: vim.VirtualMachine) -> vim.vm.SnapshotInfo | None:
        try:
            return vm.snapshot
        except vmodl.fault.ManagedObjectNotFound:
            return None

    @staticmethod
    def _hardware(vm: vim.VirtualMachine) -> tuple[int, int] | None:
        try:
            hardware = vm.config.hardware
        except vmodl.fault.ManagedObjectNotFound:
            return None
        return int(hardware.numCPU), int(hardware.memoryMB)

    def _new_tasks(self, tasks: list[vim.Task]) -> list[str]:
        """The kinds (``descriptionId``) of the tasks not seen before, oldest first."""
        kinds = []
        for task in tasks:
            if task._moId in self._seen_tasks:
                continue
            self._seen_tasks.add(task._moId)
            try:
                kinds.append(str(task.info.descriptionId))
            except vmodl.fault.ManagedObjectNotFound:
                continue
        return kinds

    def _send(self, moid: str, state: dict[str, Any] | None) -> None:
        future = asyncio.run_coroutine_threadsafe(self.apply(moid, state), self.loop)
        try:
            future.result(timeout=60)
        except Exception:
            log.exception("vmware.follow_failed", vm=moid)


__all__ = ["PATHS", "Watcher"]
