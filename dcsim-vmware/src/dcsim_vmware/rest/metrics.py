"""A VM's counters for ``GET /vcenter/vm/{vm}/metrics``, from the simulated metrics.

The values are the ones ``/metrics`` gives Prometheus at the same instant
(:class:`dcsim.sim.metrics.SimMetrics`: load profile, size, faults, seeded noise), in
vCenter's units: ``cpu.usage`` and ``mem.usage`` in percent, ``disk.*`` and
``net.usage`` in KBps. The simulation models one disk throughput; ``disk.read`` and
``disk.write`` split it 60/40, a common read/write mix.
"""

from __future__ import annotations

from typing import get_args

from dcsim.app import DcSim
from dcsim.errors import InvalidInput
from dcsim.sim.metrics import SimMetrics
from dcsim.sim.model import Vm
from dcsim_vmware.rest.models import MetricName, MetricSample

KIB = 1024
#: Share of the simulated disk throughput that counts as reads.
READ_SHARE = 0.6
#: Every counter, in the order answers list them.
COUNTERS: tuple[MetricName, ...] = get_args(MetricName)
_FAMILIES = {
    "dcsim_vm_cpu_usage": "cpu",
    "dcsim_vm_memory_usage": "memory",
    "dcsim_vm_disk_io": "disk",
    "dcsim_vm_net_io": "net",
}


def metric_names(names: str | None) -> list[MetricName]:
    """The counters ``?names=`` asks for (all when absent); InvalidInput naming ``names`` for an unknown one."""
    if names is None:
        return list(COUNTERS)
    wanted = [name.strip() for name in names.split(",")]
    unknown = [name for name in wanted if name not in COUNTERS]
    if unknown or not wanted:
        message = f"unknown counters {unknown}; use {', '.join(COUNTERS)}"
        raise InvalidInput(message, errors=[{"field": "names", "message": message}])
    return [name for name in COUNTERS if name in wanted]


def vm_samples(dcsim: DcSim, vm: Vm, names: list[MetricName], now: float) -> list[MetricSample]:
    """``vm``'s counters ``names`` at ``now`` (seconds since the epoch)."""
    raw = {"cpu": 0.0, "memory": 0.0, "disk": 0.0, "net": 0.0}
    for family in SimMetrics(dcsim.sim, dcsim.settings.sim_seed, clock=lambda: now).collect():
        key = _FAMILIES.get(family.name)
        if key is None:
            continue
        raw[key] = next((s.value for s in family.samples if s.labels.get("vm") == vm.name), 0.0)
    values: dict[MetricName, tuple[float, str]] = {
        "cpu.usage": (raw["cpu"] * 100, "percent"),
        "mem.usage": (raw["memory"] * 100, "percent"),
        "disk.usage": (raw["disk"] / KIB, "KBps"),
        "disk.read": (raw["disk"] * READ_SHARE / KIB, "KBps"),
        "disk.write": (raw["disk"] * (1 - READ_SHARE) / KIB, "KBps"),
        "net.usage": (raw["net"] / KIB, "KBps"),
    }
    return [MetricSample(name=name, value=round(values[name][0], 2), unit=values[name][1]) for name in names]  # type: ignore[arg-type]


__all__ = ["COUNTERS", "metric_names", "vm_samples"]
