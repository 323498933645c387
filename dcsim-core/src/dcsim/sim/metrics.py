"""Simulated metrics: per-VM, host and cluster gauges computed from the world on scrape.

Nothing is sampled in the background. Each scrape of ``/metrics`` derives every value
from the world as it is, the VM's load profile and size, the active faults, and a noise
term that depends only on ``(sim_seed, object id, metric, time bucket)``. So the same
seed, world and clock give the same figures, and a value holds still for one time bucket
(15 s, a Prometheus scrape interval) instead of jittering between two scrapes.

Noise
    One BLAKE2b digest of ``"<seed>/<object id>/<bucket>"`` per object and bucket,
    read as five unsigned 32-bit slices, one per metric (cpu, memory, disk, net,
    spike), each mapped to a uniform number in [0, 1). A digest rather than Python's
    ``hash()`` because that is salted per process; one digest per object rather than
    one per metric keeps a 10,000-VM scrape at 10,000 hashes.

Values of a powered-on VM (anything else reports 0)
    cpu = profile.cpu x (0.8 .. 1.2); memory = profile.memory +- 0.05;
    disk = profile.io x (0.7 .. 1.3) x 25 MB/s per vCPU; net likewise with 12.5 MB/s
    (100 Mbit/s) per vCPU. A profile with ``spike_chance`` spikes in that share of
    buckets: cpu 0.9 .. 1.0 and four times the I/O (at most the peak).

Anomalies while a fault is active
    host failure: the host is off (power 0, ambient temperature, uptime 0) and its VMs
    are off; disk full: VMs with a disk on that datastore run disk I/O at the peak and
    memory at 0.90 .. 0.98; network partition: VMs with a NIC on that network have no
    network I/O; a degraded physical server (a firmware mismatch, say): the host on it runs 15 degrees hotter.

Cluster figures count only hosts that are on and not failed (capacity is what can run):
    ``dcsim_cluster_capacity_used`` = sum(cpu usage x vCPUs of powered-on VMs) / cores,
    the load-weighted share of the cluster's CPU in use, at most 1;
    ``dcsim_cluster_overcommit_ratio`` = vCPUs of powered-on VMs / cores;
    ``dcsim_cluster_vm_count`` = VMs placed in the cluster, whatever their power state.
"""

from __future__ import annotations

import hashlib
import math
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs
import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.utils import floatToGoString

from dcsim.exposition import defer_to_text
from dcsim.registry import LoadProfile
from dcsim.sim.model import Blade, Cluster, HealthStatus, Host, PowerState, Vm
from dcsim.sim.profiles import DEFAULT_PROFILES

if TYPE_CHECKING:
    from dcsim.sim.engine import Simulation

#: Seconds a value holds still: one Prometheus scrape interval.
BUCKET_SECONDS = 15
# The next bucket's rows and text are derived this long before it starts, while the last
# scrape is more recent than two buckets: at the boundary a scrape only swaps them in.
_PREFETCH_BEFORE_SECONDS = 2.0
_PREFETCH_WHILE_SCRAPED_SECONDS = 2 * BUCKET_SECONDS

log = structlog.get_logger(__name__)
#: Peak disk and network throughput of a VM, in bytes per second per vCPU.
DISK_PEAK_PER_VCPU = 25_000_000
NET_PEAK_PER_VCPU = 12_500_000
#: Host temperatures in degrees Celsius: the room, an idle host, and the rise at full load.
AMBIENT_CELSIUS = 22.0
IDLE_CELSIUS = 38.0
LOAD_CELSIUS = 30.0
FIRMWARE_MISMATCH_CELSIUS = 15.0

# Which slice of an object's digest each metric reads.
_CPU, _MEMORY, _DISK, _NET, _SPIKE = range(5)
_SLICES = struct.Struct("<5I")
_SCALE = 1.0 / 2**32

_VM_LABELS = ("vm", "platform", "host", "cluster")
_HOST_LABELS = ("host", "cluster", "status")
_CLUSTER_LABELS = ("cluster",)


@attrs.frozen
class _Series:
    """One metric family: name, HELP text and label names (in the order rows hold them)."""

    name: str
    documentation: str
    labels: tuple[str, ...]

    @property
    def header(self) -> str:
        doc = self.documentation.replace("\\", r"\\").replace("\n", r"\n")
        return f"# HELP {self.name} {doc}\n# TYPE {self.name} gauge\n"


# A row: the label values, then one value per series of its group, in the group's order.
_Row = tuple[Any, ...]

_VM_GROUP = (
    _Series("dcsim_vm_cpu_usage", "CPU in use, a fraction of the VM's vCPUs.", _VM_LABELS),
    _Series("dcsim_vm_memory_usage", "Memory in use, a fraction of the VM's memory.", _VM_LABELS),
    _Series("dcsim_vm_disk_io", "Disk throughput, bytes per second.", _VM_LABELS),
    _Series("dcsim_vm_net_io", "Network throughput, bytes per second.", _VM_LABELS),
)
_HOST_GROUP = (
    _Series("dcsim_host_power_state", "1 when the host is on, 0 when off or failed.", _HOST_LABELS),
    _Series("dcsim_host_temperature", "Host inlet temperature, Celsius.", _HOST_LABELS),
    _Series("dcsim_host_uptime", "Seconds since the host booted, 0 when off.", _HOST_LABELS),
)
_CLUSTER_GROUP = (
    _Series(
        "dcsim_cluster_capacity_used",
        "Load-weighted share of the cluster's CPU in use: sum(cpu usage x vCPUs) / cores of running hosts.",
        _CLUSTER_LABELS,
    ),
    _Series("dcsim_cluster_vm_count", "VMs placed in the cluster, any power state.", _CLUSTER_LABELS),
    _Series(
        "dcsim_cluster_overcommit_ratio", "vCPUs of powered-on VMs / physical cores of running hosts.", _CLUSTER_LABELS
    ),
)


@attrs.frozen
class _Scrape:
    """The rows of one scrape, by group."""

    vms: list[_VmEntry]
    hosts: list[_Row]
    clusters: list[_Row]

    def groups(self) -> list[tuple[tuple[_Series, ...], list[_Row]]]:
        vm_rows = [entry.row for entry in self.vms]
        return [(_VM_GROUP, vm_rows), (_HOST_GROUP, self.hosts), (_CLUSTER_GROUP, self.clusters)]


@attrs.define(slots=True)
class _VmEntry:
    """A VM's row of one scrape, what it was derived from, and its text once written."""

    key: tuple[Any, ...]
    row: _Row
    label_text: str | None = None
    lines: tuple[str, ...] | None = None

    def text(self) -> tuple[str, ...]:
        """The VM's line in each of the four VM series."""
        if self.lines is None:
            if self.label_text is None:
                self.label_text = _label_text(self.row[0], _VM_LABELS)
            labels, row = self.label_text, self.row
            self.lines = tuple(
                f"{series.name}{labels} {_go_float(row[index + 1])}\n" for index, series in enumerate(_VM_GROUP)
            )
        return self.lines


# The profile of a VM whose profile's plugin is gone; a scrape must not fail over it.
_FALLBACK_PROFILE = next(p for p in DEFAULT_PROFILES if p.name == "normal")


def uniforms(seed: int, object_id: str, bucket: int) -> tuple[float, ...]:
    """Five numbers in [0, 1), one per metric slot, fixed by seed, object and time bucket."""
    digest = hashlib.blake2b(f"{seed}/{object_id}/{bucket}".encode(), digest_size=_SLICES.size).digest()
    return tuple([value * _SCALE for value in _SLICES.unpack(digest)])


def vm_values(
    seed: int, vm: Vm, profile: LoadProfile, bucket: int, full: bool = False, cut: bool = False
) -> tuple[float, float, float, float]:
    """A VM's cpu and memory fractions, disk and network bytes per second in ``bucket``
    (what ``/metrics`` exposes for it, and ``dcsim.sim.metrics_history`` for past buckets).

    ``full``: a disk of the VM is on a full datastore; ``cut``: a NIC is on a partitioned
    network.
    """
    if vm.power_state is not PowerState.ON:
        return (0.0, 0.0, 0.0, 0.0)
    u = uniforms(seed, vm.id, bucket)
    cpu = profile.cpu * (0.8 + 0.4 * u[_CPU])
    memory = profile.memory + 0.1 * (u[_MEMORY] - 0.5)
    disk = profile.io * (0.7 + 0.6 * u[_DISK])
    net = profile.io * (0.7 + 0.6 * u[_NET])
    if u[_SPIKE] < profile.spike_chance:
        cpu, disk, net = 0.9 + 0.1 * u[_CPU], min(1.0, 4 * disk), min(1.0, 4 * net)
    if full:
        # Writers retry against a full datastore and pile up in memory.
        disk, memory = 1.0, max(memory, 0.90 + 0.08 * u[_MEMORY])
    if cut:
        net = 0.0
    return (_fraction(cpu), _fraction(memory), disk * DISK_PEAK_PER_VCPU * vm.cpu, net * NET_PEAK_PER_VCPU * vm.cpu)


class SimMetrics:
    """A Prometheus collector of the simulated estate's metrics.

    Under :func:`dcsim.exposition.render` (the ``/metrics`` route) it writes its
    exposition text itself, label sets of VMs cached between scrapes; elsewhere it yields
    the same series as ``GaugeMetricFamily`` objects. Both come from one computation, so
    the two texts are the same byte for byte.

    Args:
        sim: the started simulation whose world and faults are read on each scrape.
        seed: the seed of the noise (the instance's ``sim_seed``).
        clock: seconds since the epoch; tests pass a fixed one.
    """

    def __init__(self, sim: Simulation, seed: int, clock: Callable[[], float] = time.time) -> None:
        self._sim = sim
        self._seed = seed
        self._clock = clock
        # Each VM's row and text of the last scrape, by VM id: reused while what they are
        # derived from (bucket, power, profile, size, faults, labels) is the same.
        self._vms: dict[str, _VmEntry] = {}
        # The VM entries of the last text written and that text (four series of them).
        self._vm_block: tuple[list[_VmEntry], bytes] = ([], b"")
        # The next bucket's entries by VM id and its VM text, derived ahead (a timer thread).
        self._ahead: _Ahead | None = None
        # What a scrape replaced (last entries and text), freed by the timer thread: freeing
        # a whole estate's entries was a third of a scrape at the boundary.
        self._retired: tuple[dict[str, _VmEntry], tuple[list[_VmEntry], bytes]] | None = None
        self._scraped_at = -math.inf
        self._prefetch: threading.Timer | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Every series, from one pass over the VMs, then the hosts, then the clusters."""
        if defer_to_text(self.exposition):
            return
        scrape = self._compute()
        for group, rows in scrape.groups():
            for index, series in enumerate(group):
                family = GaugeMetricFamily(series.name, series.documentation, labels=list(series.labels))
                for row in rows:
                    family.add_metric(list(row[0]), row[index + 1])
                yield family

    def exposition(self) -> bytes:
        """Every series in the text exposition format, as ``generate_latest`` writes them."""
        self._scraped_at = time.monotonic()
        self._prefetch_later()
        replaced = (self._vms, self._vm_block)
        scrape = self._compute()
        out: list[str] = []
        for group, rows in scrape.groups()[1:]:
            labels = [_label_text(row[0], group[0].labels) for row in rows]
            for index, series in enumerate(group):
                out.append(series.header)
                name = series.name
                out.extend(
                    [f"{name}{text} {_go_float(row[index + 1])}\n" for text, row in zip(labels, rows, strict=True)]
                )
        vm_text = self._vm_text(scrape.vms)
        if self._vm_block is not replaced[1]:
            self._retired = replaced
        return vm_text + "".join(out).encode()

    def _vm_text(self, entries: list[_VmEntry]) -> bytes:
        """The four VM series' text: the last scrape's, or the one derived ahead for this
        bucket, when every VM's entry is the same object as theirs."""
        last_entries, last_text = self._vm_block
        if _same(entries, last_entries):
            return last_text
        ahead = self._ahead
        if ahead is not None and _same(entries, ahead.block[0]):
            self._vm_block, self._ahead = ahead.block, None
            return ahead.block[1]
        block = (entries, _vm_block_text(entries))
        self._vm_block = block
        return block[1]

    def _prefetch_later(self) -> None:
        """While someone scrapes, derive the next bucket's VM rows and text shortly before it
        starts (in a timer thread), so that a scrape (Prometheus's, every 15 s, anywhere in
        the bucket) never pays for a whole estate's hashing and formatting itself."""
        if self._prefetch is not None and self._prefetch.is_alive():
            return
        now = self._clock()
        ahead = self._ahead
        # The next bucket not yet derived ahead; at most a bucket from now.
        target = int(now // BUCKET_SECONDS) + 1
        if ahead is not None and ahead.bucket >= target:
            target = ahead.bucket + 1
        delay = max(0.0, target * BUCKET_SECONDS - _PREFETCH_BEFORE_SECONDS - now)
        self._prefetch = threading.Timer(delay, self._prefetch_now, args=(target,))
        self._prefetch.daemon = True
        self._prefetch.start()

    def _prefetch_now(self, bucket: int) -> None:
        self._prefetch = None
        self._retired = None
        if time.monotonic() - self._scraped_at > _PREFETCH_WHILE_SCRAPED_SECONDS:
            return  # nobody scrapes: spend nothing
        try:
            self._derive_ahead(bucket)
        except Exception:
            # The world changed under the read (a VM removed meanwhile): the scrape derives it.
            log.debug("sim.metrics.prefetch_failed", exc_info=True)
            return
        self._prefetch_later()

    def _derive_ahead(self, bucket: int) -> None:
        """Derive ``bucket``'s VM entries and text from the world as it is now; a scrape in
        that bucket takes each entry whose inputs are still the same (the values are a
        function of them, so they are what the scrape would derive itself)."""
        world = self._sim.world
        clusters = {cluster.id: cluster for cluster in world.all(Cluster)}
        hosts = {host.id: host for host in world.all(Host)}
        entries, by_id = self._vm_entries(world.all(Vm), hosts, clusters, bucket, _Faulted.of(self._sim), _Load())
        self._ahead = _Ahead(bucket, by_id, (entries, _vm_block_text(entries)))

    def _compute(self) -> _Scrape:
        now = self._clock()
        bucket = int(now // BUCKET_SECONDS)
        world = self._sim.world
        clusters = {cluster.id: cluster for cluster in world.all(Cluster)}
        hosts = {host.id: host for host in world.all(Host)}
        faulted = _Faulted.of(self._sim)
        load = _Load()
        ahead = self._ahead
        if ahead is not None and ahead.bucket < bucket:
            self._ahead = ahead = None  # derived for a bucket gone by: never taken
        early = ahead.entries if ahead is not None and ahead.bucket == bucket else None
        vms, self._vms = self._vm_entries(world.all(Vm), hosts, clusters, bucket, faulted, load, early)
        host_rows = self._host_rows(hosts, clusters, now, bucket, faulted, load)
        return _Scrape(vms=vms, hosts=host_rows, clusters=_cluster_rows(clusters, load))

    def _vm_entries(
        self,
        vms: list[Vm],
        hosts: dict[str, Host],
        clusters: dict[str, Cluster],
        bucket: int,
        faulted: _Faulted,
        load: _Load,
        ahead: dict[str, _VmEntry] | None = None,
    ) -> tuple[list[_VmEntry], dict[str, _VmEntry]]:
        """Each VM's entry for ``bucket`` (the last scrape's or the one derived ahead when
        its key is the same, else derived), in order, and by VM id."""
        registry = self._sim.dcsim.load_profiles
        profiles: dict[str, LoadProfile] = {name: registry[name] for name in registry}
        previous, current = self._vms, {}
        entries: list[_VmEntry] = []
        on = PowerState.ON
        for vm in vms:
            host = hosts[vm.host_id]
            cluster = clusters[host.cluster_id]
            load.cluster_vms[cluster.id] += 1
            labels = (vm.name, vm.platform, host.name, cluster.name)
            profile = profiles.get(vm.load_profile, _FALLBACK_PROFILE)
            full = bool(faulted.datastores) and any(d.datastore_id in faulted.datastores for d in vm.disks)
            cut = bool(faulted.networks) and any(nic.network_id in faulted.networks for nic in vm.nics)
            key = (bucket, vm.power_state, profile, vm.cpu, full, cut, labels)
            # At a bucket's first scrape the early entries alone are read (memory the scrape
            # touches after an idle while costs several times more on the 2-core VM).
            entry = previous.get(vm.id) if ahead is None else ahead.get(vm.id)
            if entry is None or entry.key != key:
                entry = previous.get(vm.id)
                if entry is None or entry.key != key:
                    label_text = entry.label_text if entry is not None and entry.key[-1] == labels else None
                    entry = _VmEntry(key, self._vm_row(vm, labels, profile, bucket, full, cut), label_text)
            current[vm.id] = entry
            entries.append(entry)
            if vm.power_state is on:
                load.host_busy[host.id] += entry.row[1] * vm.cpu
                load.host_vcpus[host.id] += vm.cpu
        return entries, current

    def _vm_row(
        self, vm: Vm, labels: tuple[str, ...], profile: LoadProfile, bucket: int, full: bool, cut: bool
    ) -> _Row:
        """The VM's labels and its four values (:func:`vm_values`)."""
        return (labels, *vm_values(self._seed, vm, profile, bucket, full, cut))

    def _host_rows(
        self,
        hosts: dict[str, Host],
        clusters: dict[str, Cluster],
        now: float,
        bucket: int,
        faulted: _Faulted,
        load: _Load,
    ) -> list[_Row]:
        rows: list[_Row] = []
        for host in hosts.values():
            cluster = clusters[host.cluster_id]
            labels = (host.name, cluster.name, host.status.value)
            if host.power_state is not PowerState.ON or host.status is HealthStatus.FAILED:
                rows.append((labels, 0.0, AMBIENT_CELSIUS, 0.0))
                continue
            busy = min(1.0, load.host_busy[host.id] / host.cpu_cores) if host.cpu_cores else 0.0
            celsius = IDLE_CELSIUS + LOAD_CELSIUS * busy + 2 * (uniforms(self._seed, host.id, bucket)[0] - 0.5)
            if host.blade_id in faulted.blades:
                celsius += FIRMWARE_MISMATCH_CELSIUS
            rows.append((labels, 1.0, round(celsius, 1), max(0.0, now - host.booted_at.timestamp())))
            load.cluster_cores[cluster.id] += host.cpu_cores
            load.cluster_busy[cluster.id] += load.host_busy[host.id]
            load.cluster_vcpus[cluster.id] += load.host_vcpus[host.id]
        return rows


@attrs.frozen
class _Ahead:
    """A bucket's VM entries by VM id and its VM text, derived before the bucket started."""

    bucket: int
    entries: dict[str, _VmEntry]
    block: tuple[list[_VmEntry], bytes]


def _same(entries: list[_VmEntry], others: list[_VmEntry]) -> bool:
    return len(entries) == len(others) and all(a is b for a, b in zip(entries, others, strict=True))


def _vm_block_text(entries: list[_VmEntry]) -> bytes:
    """The four VM series (header, then a line per VM) of ``entries``."""
    vm_lines = [entry.text() for entry in entries]
    out: list[str] = []
    for index, series in enumerate(_VM_GROUP):
        out.append(series.header)
        out.extend([lines[index] for lines in vm_lines])
    return "".join(out).encode()


@attrs.frozen
class _Faulted:
    """Ids of the objects active faults make misbehave: full datastores, partitioned
    networks, degraded physical servers."""

    datastores: frozenset[str]
    networks: frozenset[str]
    blades: frozenset[str]

    @classmethod
    def of(cls, sim: Simulation) -> _Faulted:
        by_kind: dict[tuple[str, str], set[str]] = defaultdict(set)
        for fault in sim.active_faults():
            for target in fault.targets:
                by_kind[fault.kind, target.kind].add(target.id)
        return cls(
            datastores=frozenset(by_kind["disk-full", "datastore"]),
            networks=frozenset(by_kind["network-partition", "network"]),
            blades=frozenset(b.id for b in sim.world.all(Blade) if b.status is HealthStatus.DEGRADED),
        )


@attrs.define
class _Load:
    """Sums over powered-on VMs, by host and then by cluster, built up during one scrape."""

    host_busy: defaultdict[str, float] = attrs.field(factory=lambda: defaultdict(float))  # usage x vCPUs
    host_vcpus: defaultdict[str, int] = attrs.field(factory=lambda: defaultdict(int))
    cluster_vms: defaultdict[str, int] = attrs.field(factory=lambda: defaultdict(int))  # any power state
    # Clusters count only hosts that are on and not failed: capacity is what can run.
    cluster_cores: defaultdict[str, int] = attrs.field(factory=lambda: defaultdict(int))
    cluster_busy: defaultdict[str, float] = attrs.field(factory=lambda: defaultdict(float))
    cluster_vcpus: defaultdict[str, int] = attrs.field(factory=lambda: defaultdict(int))


def _cluster_rows(clusters: dict[str, Cluster], load: _Load) -> list[_Row]:
    rows: list[_Row] = []
    for cluster in clusters.values():
        cores = load.cluster_cores[cluster.id]
        used = min(1.0, load.cluster_busy[cluster.id] / cores) if cores else 0.0
        overcommit = load.cluster_vcpus[cluster.id] / cores if cores else 0.0
        rows.append(((cluster.name,), used, float(load.cluster_vms[cluster.id]), overcommit))
    return rows


def _label_text(values: tuple[str, ...], names: tuple[str, ...]) -> str:
    """``{a="1",b="2"}`` with label names sorted and values escaped, as prometheus_client writes it."""
    pairs = sorted(zip(names, values, strict=True))
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in pairs) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _go_float(value: float) -> str:
    # Below a million (and not -Inf or NaN) Go's form is Python's repr; only larger values
    # need prometheus_client's exponent rewriting.
    return repr(value) if -1e300 < value < 1e6 else str(floatToGoString(value))  # type: ignore[no-untyped-call]


def _fraction(value: float) -> float:
    return min(1.0, max(0.0, value))
