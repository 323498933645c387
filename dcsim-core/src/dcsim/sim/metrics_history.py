"""Recent metrics of one VM or host: the last time buckets of its simulated series.

Nothing is stored. A simulated value depends only on the seed, the object, its time
bucket and the world (``dcsim.sim.metrics``), so a VM's or host's last N buckets are
derived on demand, from the world as it is now: the current bucket's figures are the
ones ``/metrics`` shows, and earlier buckets show what the object would have reported
in them with its present power state, size, load profile and faults (the simulation
keeps no history of those). A host's figures sum the VMs on it, so a host of 100 VMs
over 40 buckets costs 4,000 digests.

Figures of a VM are ``/metrics``'s four VM series. A host's are its temperature and
power (as ``/metrics`` shows them) and two loads of its own, computed from its VMs'
series: ``cpu_usage`` = sum(cpu usage x vCPUs of powered-on VMs) / cores (at most 1,
the figure the host's temperature follows) and ``memory_usage`` = sum(memory usage x
memory of powered-on VMs) / the host's memory (at most 1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import attrs

from dcsim.registry import LoadProfile
from dcsim.sim.metrics import (
    AMBIENT_CELSIUS,
    BUCKET_SECONDS,
    FIRMWARE_MISMATCH_CELSIUS,
    IDLE_CELSIUS,
    LOAD_CELSIUS,
    _Faulted,
    uniforms,
    vm_values,
)
from dcsim.sim.model import HealthStatus, Host, PowerState, Vm
from dcsim.sim.profiles import DEFAULT_PROFILES

if TYPE_CHECKING:
    from dcsim.sim.engine import Simulation

#: How many buckets one request may ask for: one hour of 15 s buckets.
MAX_BUCKETS = 240

# The profile of a VM whose profile's plugin is gone, as /metrics falls back to it.
_FALLBACK_PROFILE = next(p for p in DEFAULT_PROFILES if p.name == "normal")


@attrs.frozen
class VmSample:
    """A VM's figures in one time bucket."""

    at: datetime
    cpu_usage: float
    memory_usage: float
    disk_io: float
    net_io: float


@attrs.frozen
class HostSample:
    """A host's figures in one time bucket."""

    at: datetime
    power: float
    temperature: float
    cpu_usage: float
    memory_usage: float


class MetricsHistory:
    """Derives the recent buckets of a VM's or host's simulated series.

    Args:
        sim: the started simulation whose world and faults are read.
        seed: the seed of the noise (the instance's ``sim_seed``, as ``/metrics`` uses).
    """

    def __init__(self, sim: Simulation, seed: int) -> None:
        self._sim = sim
        self._seed = seed

    def vm(self, ref: str, buckets: int, now: float) -> tuple[Vm, list[VmSample]]:
        """The VM ``ref`` (id or name) and its last ``buckets`` samples, oldest first, the
        last one the bucket of ``now``. NotFound when there is no such VM."""
        vm = self._sim.vm(ref)
        derive = self._vm_deriver(vm, _Faulted.of(self._sim))
        samples = [VmSample(_start(bucket), *derive(bucket)) for bucket in _buckets(buckets, now)]
        return vm, samples

    def host(self, ref: str, buckets: int, now: float) -> tuple[Host, list[HostSample]]:
        """The host ``ref`` (id or name) and its last ``buckets`` samples, oldest first."""
        world = self._sim.world
        host = world.get(Host, ref)
        faulted = _Faulted.of(self._sim)
        running = [vm for vm in world.vms_on(host) if vm.power_state is PowerState.ON]
        derivers = [(vm, self._vm_deriver(vm, faulted)) for vm in running]
        off = host.power_state is not PowerState.ON or host.status is HealthStatus.FAILED
        hot = FIRMWARE_MISMATCH_CELSIUS if host.blade_id in faulted.blades else 0.0
        samples: list[HostSample] = []
        for bucket in _buckets(buckets, now):
            if off:
                samples.append(HostSample(_start(bucket), 0.0, AMBIENT_CELSIUS, 0.0, 0.0))
                continue
            busy = memory = 0.0
            for vm, derive in derivers:
                cpu, mem, _, _ = derive(bucket)
                busy += cpu * vm.cpu
                memory += mem * vm.memory_mb
            load = min(1.0, busy / host.cpu_cores) if host.cpu_cores else 0.0
            noise = 2 * (uniforms(self._seed, host.id, bucket)[0] - 0.5)
            celsius = round(IDLE_CELSIUS + LOAD_CELSIUS * load + noise + hot, 1)
            used = min(1.0, memory / host.memory_mb) if host.memory_mb else 0.0
            samples.append(HostSample(_start(bucket), 1.0, celsius, load, used))
        return host, samples

    def _vm_deriver(self, vm: Vm, faulted: _Faulted) -> _Deriver:
        try:
            profile: LoadProfile = self._sim.dcsim.load_profiles[vm.load_profile]
        except KeyError:
            profile = _FALLBACK_PROFILE
        full = any(disk.datastore_id in faulted.datastores for disk in vm.disks)
        cut = any(nic.network_id in faulted.networks for nic in vm.nics)
        return _Deriver(self._seed, vm, profile, full, cut)


@attrs.frozen
class _Deriver:
    """One VM's values by bucket, with what does not change between buckets fixed."""

    seed: int
    vm: Vm
    profile: LoadProfile
    full: bool
    cut: bool

    def __call__(self, bucket: int) -> tuple[float, float, float, float]:
        return vm_values(self.seed, self.vm, self.profile, bucket, self.full, self.cut)


def _buckets(count: int, now: float) -> range:
    current = int(now // BUCKET_SECONDS)
    return range(current - count + 1, current + 1)


def _start(bucket: int) -> datetime:
    return datetime.fromtimestamp(bucket * BUCKET_SECONDS, tz=UTC)
