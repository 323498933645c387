"""The vmware service: one vCenter (the managed simulator or a configured URL) kept in
one world with the simulation, both ways.

- start: the simulator is started (unless ``url`` is set), vCenter's inventory is made
  the simulation's (:mod:`dcsim_vmware.inventory`), then the watcher follows vCenter.
- simulation -> vCenter: the bus subscriber calls :meth:`VmwareService.sync` on every
  VM, host, cluster and network event; syncs coalesce (one runs, the next covers
  whatever arrived meanwhile) and write only differences.
- the simulator died: the supervisor restarts it and :meth:`_reseed` seeds it from the
  world as it is now; ``/readyz`` reports the gap while it lasts.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
import attrs
import structlog

from dcsim.app import DcSim
from dcsim.errors import ConfigError, ServiceUnavailable
from dcsim.model import Check, Event
from dcsim_vmware.agreement import Agreement, Baseline
from dcsim_vmware.desired import Inventory, read_inventory
from dcsim_vmware.follow import ORIGIN, Follower
from dcsim_vmware.inventory import Reconciler
from dcsim_vmware.settings import VmwareSettings
from dcsim_vmware.sidecar import Sidecar, find_binary
from dcsim_vmware.vcenter import Echoes, connect, disconnect
from dcsim_vmware.watcher import Watcher

log = structlog.get_logger(__name__)

#: Events after which vCenter is brought to the simulation.
SYNC_EVENTS = ("vm.*", "host.*", "cluster.*", "network.*", "fault.*")


@attrs.frozen
class SyncPlan:
    """One sync's input: the simulation's inventory and the agreement it is compared with."""

    inventory: Inventory
    baseline: Baseline


class VmwareService:
    """The vCenter the plugin serves or follows."""

    def __init__(self, settings: VmwareSettings, data_dir: Path) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.sidecar: Sidecar | None = None
        self.echoes = Echoes()
        #: sim VM id -> vCenter VM id, shared by the reconciler and the follower
        self.ids: dict[str, str] = {}
        #: what dc-sim and vCenter last agreed each VM is (the follower records vCenter's state)
        self.agreement = Agreement()
        self.adopting: set[str] = set()
        self.watcher: Watcher | None = None
        self._si: Any = None
        self._dcsim: DcSim | None = None
        self._sync_lock = asyncio.Lock()
        self._dirty = False
        self._seeding = False
        self.syncs = 0
        self.off_reason = "plugins.vmware.vcenter is off"

    @property
    def active(self) -> bool:
        """Whether a vCenter is served or followed (``vcenter`` is not off, or auto found none)."""
        return self.sidecar is not None or self.settings.url is not None

    @property
    def url(self) -> str:
        """The SDK URL dc-sim itself uses (plain HTTP for the managed simulator)."""
        if self.sidecar is not None:
            return self.sidecar.http_url
        assert self.settings.url is not None
        return self.settings.url

    @property
    def urls(self) -> dict[str, str]:
        """The SDK URLs clients may use."""
        if self.sidecar is not None:
            return {"https": self.sidecar.https_url, "http": self.sidecar.http_url}
        return {"url": self.url}

    async def start(self, dcsim: DcSim) -> None:
        """Start (or reach) vCenter, seed it from the world, and follow it."""
        self._dcsim = dcsim
        mode = self.settings.vcenter
        if mode == "off":
            return
        if self.settings.url is None:
            try:
                find_binary(self.settings)
            except ConfigError as exc:
                if mode == "managed":
                    raise
                # `auto` without a simulator is a supported setup (a library user's, say):
                # /readyz says why; a warning would break library mode's silence.
                self.off_reason = exc.detail
                log.info("vmware.no_vcenter", reason=exc.detail)
                return
            self.sidecar = Sidecar(self.settings, self.data_dir, on_restart=self._reseed)
            await self.sidecar.start()
        await self._seed()

    async def _seed(self) -> None:
        assert self._dcsim is not None
        self._seeding = True
        try:
            self.ids.clear()
            self.agreement.clear()
            started = time.monotonic()
            self._si = await anyio.to_thread.run_sync(connect, self.url, self.settings.username, self.settings.password)
            await self._sync_now()
            follower = Follower(self._dcsim, self.ids, self.agreement, self.echoes, self.adopting)
            self.watcher = Watcher(
                self.url, self.settings.username, self.settings.password, asyncio.get_running_loop(), follower.apply
            )
            self.watcher.start()
            if not await anyio.to_thread.run_sync(self.watcher.ready.wait, 30) or self.watcher.error:
                raise ServiceUnavailable(f"vCenter at {self.url} cannot be watched: {self.watcher.error}")
            if self._dirty:
                await self._sync_now()  # what changed while the watcher started
            log.info("vmware.seeded", url=self.url, vms=len(self.ids), seconds=round(time.monotonic() - started, 2))
        finally:
            self._seeding = False

    async def _reseed(self) -> None:
        await self._stop_watching()
        await self._seed()

    async def _stop_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            await anyio.to_thread.run_sync(self.watcher.join, 5)
            self.watcher = None
        if self._si is not None:
            await anyio.to_thread.run_sync(disconnect, self._si)
            self._si = None

    async def on_event(self, event: Event) -> None:
        """Bring vCenter to the simulation after ``event`` (not one vCenter caused)."""
        if event.data.get("reason") == ORIGIN:
            return
        await self.sync()

    async def sync(self) -> None:
        """Bring vCenter to the simulation now, or after the sync that is running."""
        self._dirty = True
        if not self.active or self._sync_lock.locked() or self._seeding:
            return
        await self._sync_now()

    async def take_plan(self) -> SyncPlan:
        """What one sync reconciles: the world's inventory and a frozen copy of the
        agreement, taken together under the agreement's lock (never while the follower
        is between applying vCenter's news to the simulation and recording it). So the
        reconciler compares the simulation with vCenter's state as agreed at that same
        moment, never a world older than the agreement (that wrote old values back to
        vCenter: a bounce) nor one newer than it."""
        assert self._dcsim is not None
        async with self.agreement.lock:
            return SyncPlan(read_inventory(self._dcsim.sim.world), self.agreement.snapshot())

    async def reconcile(self, plan: SyncPlan) -> bool:
        """Bring vCenter to ``plan`` now (after the sync that is running, if any);
        whether it was applied (False: vCenter is away or the sync failed)."""
        async with self._sync_lock:
            return await self._reconcile(plan)

    async def _sync_now(self) -> None:
        async with self._sync_lock:
            self._dirty = True
            while self._dirty:
                self._dirty = False
                if self._si is None:
                    return  # vCenter is away: the re-seed brings the world as it is then
                if not await self._reconcile(await self.take_plan()):
                    return

    async def _reconcile(self, plan: SyncPlan) -> bool:
        """Apply ``plan`` (the sync lock held); whether it was applied."""
        if self._si is None:
            return False
        reconciler = Reconciler(
            self._si, self.echoes, self.ids, plan.baseline.last, self.data_dir / "vmware" / "datastores", self.adopting
        )
        try:
            actions = await anyio.to_thread.run_sync(reconciler.apply, plan.inventory)
        except Exception as exc:
            if self._seeding:
                raise
            log.warning("vmware.sync_failed", error=str(exc))
            return False
        finally:
            # Only for VMs the follower did not record meanwhile (their version is unchanged).
            self.agreement.merge(plan.baseline, reconciler.agreed)
        self.syncs += 1
        if actions:
            log.info("vmware.synced", actions=actions)
        return True

    def readiness(self) -> Check:
        """Whether vCenter is there and followed; the gap's length while it is not."""
        if not self.active:
            return Check("vmware", True, f"no vCenter: {self.off_reason}")
        if self.sidecar is not None and self.sidecar.down_since is not None:
            gap = time.monotonic() - self.sidecar.down_since
            return Check("vmware", False, f"vcsim restarting: vCenter away for {gap:.1f}s")
        if self.watcher is None or not self.watcher.alive:
            return Check("vmware", False, f"vCenter at {self.url} not followed")
        return Check("vmware", True, f"vCenter at {', '.join(self.urls.values())}")

    async def stop(self) -> None:
        """Stop following and end the simulator."""
        await self._stop_watching()
        if self.sidecar is not None:
            await self.sidecar.stop()


__all__ = ["SYNC_EVENTS", "SyncPlan", "VmwareService"]
