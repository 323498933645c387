"""What dc-sim and vCenter last agreed each VM is: the baseline both sync directions
compare against, with a version per VM.

The follower records vCenter's state after every update it applied (:meth:`observe`,
which bumps the VM's version); the reconciler records what it wrote or found equal.
Everything here runs on the event loop; the reconciler's worker thread never touches
it, it reconciles against a frozen :class:`Baseline`. :attr:`Agreement.lock` makes the
world and the agreement one consistent view: the follower holds it from its first
change to the simulation until it recorded vCenter's state, and a sync holds it while
it reads the world and takes the baseline, so a sync never sees the simulation changed
by a client's news that the agreement does not record yet. Its records are merged back by :meth:`merge` only
for VMs whose version did not move meanwhile: a VM the follower recorded while the
reconciler ran keeps the follower's (newer) record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import attrs

from dcsim_vmware.desired import VmSpec


@attrs.frozen
class Baseline:
    """The agreement as one sync took it."""

    #: sim VM id -> the VM as last agreed
    last: Mapping[str, VmSpec]
    #: sim VM id -> its version when taken
    versions: Mapping[str, int]
    #: the agreement's generation when taken (a re-seed starts a new one)
    generation: int


class Agreement:
    """The last agreed state of every VM, versioned per VM."""

    def __init__(self) -> None:
        self._last: dict[str, VmSpec] = {}
        self._versions: dict[str, int] = {}
        self._generation = 0
        #: held by the follower while it applies an update, and by a sync taking its plan
        self.lock = asyncio.Lock()

    def get(self, sim_id: str) -> VmSpec | None:
        """The VM ``sim_id`` as last agreed (None: never)."""
        return self._last.get(sim_id)

    def version(self, sim_id: str) -> int:
        """How many times vCenter's state of ``sim_id`` was observed."""
        return self._versions.get(sim_id, 0)

    def observe(self, spec: VmSpec) -> None:
        """Record vCenter's state of a VM as the watcher just saw (and the follower applied) it."""
        self._last[spec.id] = spec
        self._versions[spec.id] = self.version(spec.id) + 1

    def snapshot(self) -> Baseline:
        """A frozen copy for one sync: take it in the same loop step as the inventory."""
        return Baseline(dict(self._last), dict(self._versions), self._generation)

    def merge(self, baseline: Baseline, agreed: Mapping[str, VmSpec | None]) -> list[str]:
        """Record what a sync taken at ``baseline`` agreed (None: the VM is gone), except
        for VMs observed since; the ids left out."""
        if baseline.generation != self._generation:
            return list(agreed)
        stale = [sim_id for sim_id in agreed if self.version(sim_id) != baseline.versions.get(sim_id, 0)]
        for sim_id, spec in agreed.items():
            if sim_id in stale:
                continue
            if spec is None:
                self._last.pop(sim_id, None)
            else:
                self._last[sim_id] = spec
        return stale

    def clear(self) -> None:
        """Forget everything (a re-seed): merges of syncs taken before are dropped."""
        self._last.clear()
        self._generation += 1


__all__ = ["Agreement", "Baseline"]
