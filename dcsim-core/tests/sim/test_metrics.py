"""Simulated metrics: every series at /metrics, reproducible per seed, shaped by profiles and faults."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dcsim import hookimpl
from dcsim.app import DcSim
from dcsim.sim.faults import Target
from dcsim.sim.metrics import AMBIENT_CELSIUS, BUCKET_SECONDS, DISK_PEAK_PER_VCPU, SimMetrics
from dcsim.sim.model import HealthStatus, Host

from .conftest import BladeHost

VM_SERIES = ("dcsim_vm_cpu_usage", "dcsim_vm_memory_usage", "dcsim_vm_disk_io", "dcsim_vm_net_io")
HOST_SERIES = ("dcsim_host_power_state", "dcsim_host_temperature", "dcsim_host_uptime")
CLUSTER_SERIES = ("dcsim_cluster_capacity_used", "dcsim_cluster_vm_count", "dcsim_cluster_overcommit_ratio")
#: The start of a time bucket, far from the epoch like a real clock.
T0 = 1_000_000 * BUCKET_SECONDS

# (series, vm / host / cluster name) -> value
Values = dict[tuple[str, str], float]


def parse(text: str) -> tuple[Values, dict[str, list[dict[str, str]]]]:
    """Values of the dcsim_ series by (name, subject), and each series' label sets."""
    values: Values = {}
    labels: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            # The simulation's series only: ITSM, bus and other modules export dcsim_ series too.
            if sample.name.startswith(("dcsim_vm_", "dcsim_host_", "dcsim_cluster_")):
                subject = sample.labels.get("vm") or sample.labels.get("host") or sample.labels["cluster"]
                values[sample.name, subject] = sample.value
                labels.setdefault(sample.name, []).append(sample.labels)
    return values, labels


def scrape(dc: DcSim, at: float, seed: int | None = None) -> Values:
    """Values of a collector on ``dc``'s world with its clock fixed at ``at``."""
    registry = CollectorRegistry()
    registry.register(SimMetrics(dc.sim, seed=dc.settings.sim_seed if seed is None else seed, clock=lambda: at))
    return parse(generate_latest(registry).decode())[0]


def without_uptime(values: Values) -> Values:
    # Uptime counts from when a host booted, a real moment that differs between instances.
    return {key: value for key, value in values.items() if key[0] != "dcsim_host_uptime"}


def test_metrics_endpoint_exposes_every_series(dcsim_client):
    response = dcsim_client.get("/metrics")
    assert response.status_code == 200
    values, labels = parse(response.text)

    vms = {"vm-001", "vm-002", "vm-003", "instance-001", "instance-002", "instance-003"}
    for name in VM_SERIES:
        assert {series["vm"] for series in labels[name]} == vms
        assert {"vm": "vm-001", "platform": "vmware", "host": "esxi-01", "cluster": "cluster-01"} in labels[name]
        assert {"vm": "instance-002", "platform": "openstack", "host": "compute-02", "cluster": "nova"} in labels[name]
    for name in HOST_SERIES:
        assert {series["host"] for series in labels[name]} == {"esxi-01", "esxi-02", "compute-01", "compute-02"}
        assert {"host": "esxi-01", "cluster": "cluster-01", "status": "ok"} in labels[name]
    for name in CLUSTER_SERIES:
        assert labels[name] == [{"cluster": "cluster-01"}, {"cluster": "nova"}]

    assert 0 < values["dcsim_vm_cpu_usage", "vm-001"] < 1 and 0 < values["dcsim_vm_memory_usage", "vm-001"] < 1
    assert values["dcsim_vm_disk_io", "vm-001"] > 0 and values["dcsim_vm_net_io", "vm-001"] > 0
    assert values["dcsim_host_power_state", "esxi-01"] == 1 and values["dcsim_host_temperature", "esxi-01"] > 30
    assert values["dcsim_host_uptime", "esxi-01"] >= 0
    assert values["dcsim_cluster_vm_count", "cluster-01"] == 3
    assert values["dcsim_cluster_overcommit_ratio", "cluster-01"] == 8 / 64  # vCPUs of vm-001..003 / 2 x 32 cores
    assert 0 < values["dcsim_cluster_capacity_used", "cluster-01"] < 1


async def test_same_seed_same_values(make_dcsim, tmp_path):
    async with (
        make_dcsim(data_dir=tmp_path / "a", sim_seed=7) as first,
        make_dcsim(data_dir=tmp_path / "b", sim_seed=7) as second,
    ):
        assert without_uptime(scrape(first, T0)) == without_uptime(scrape(second, T0))
        other_seed = scrape(first, T0, seed=8)
        assert without_uptime(other_seed).keys() == without_uptime(scrape(first, T0)).keys()
        assert other_seed["dcsim_vm_cpu_usage", "vm-001"] != scrape(first, T0)["dcsim_vm_cpu_usage", "vm-001"]


async def test_values_hold_within_a_bucket(make_dcsim):
    async with make_dcsim() as dc:
        start = without_uptime(scrape(dc, T0))
        assert without_uptime(scrape(dc, T0 + BUCKET_SECONDS - 1)) == start
        later = scrape(dc, T0 + BUCKET_SECONDS)
        assert all(later[name, "vm-001"] != start[name, "vm-001"] for name in VM_SERIES)


async def test_uptime_counts_from_boot(make_dcsim):
    async with make_dcsim() as dc:
        booted = dc.sim.world.get(Host, "esxi-01").booted_at.timestamp()
        assert scrape(dc, booted + 100)["dcsim_host_uptime", "esxi-01"] == 100


async def test_powered_off_vm_reports_zero(make_dcsim):
    async with make_dcsim() as dc:
        await dc.sim.power("vm-001", "off")
        values = scrape(dc, T0)
        assert [values[name, "vm-001"] for name in VM_SERIES] == [0, 0, 0, 0]
        assert values["dcsim_vm_cpu_usage", "vm-002"] > 0
        assert values["dcsim_cluster_vm_count", "cluster-01"] == 3  # placed, whatever its power
        assert values["dcsim_cluster_overcommit_ratio", "cluster-01"] == 6 / 64


async def test_stressed_vm_is_busier_than_idle(make_dcsim):
    async with make_dcsim() as dc:
        # vm-001 and vm-002 have the same size, so only the profile differs.
        await dc.sim.set_load_profile("vm-001", "stressed")
        await dc.sim.set_load_profile("vm-002", "idle")
        for bucket in range(10):
            values = scrape(dc, T0 + bucket * BUCKET_SECONDS)
            assert all(values[name, "vm-001"] > values[name, "vm-002"] for name in VM_SERIES)


async def test_spiking_profile_spikes_in_its_share_of_buckets(make_dcsim):
    async with make_dcsim() as dc:
        await dc.sim.set_load_profile("vm-001", "spiking")
        cpu = [scrape(dc, T0 + bucket * BUCKET_SECONDS)["dcsim_vm_cpu_usage", "vm-001"] for bucket in range(200)]
        spikes = [value for value in cpu if value >= 0.9]
        assert 20 <= len(spikes) <= 60  # spike_chance 0.2 of 200 buckets; fixed by the seed
        assert max(value for value in cpu if value < 0.9) < 0.4


async def test_host_failure_turns_the_host_off(make_dcsim):
    async with make_dcsim() as dc:
        before = scrape(dc, T0)
        await dc.sim.inject("host-failure", {"host": "compute-01"})
        registry = CollectorRegistry()
        registry.register(SimMetrics(dc.sim, seed=0, clock=lambda: T0))
        values, labels = parse(generate_latest(registry).decode())
        assert {"host": "compute-01", "cluster": "nova", "status": "failed"} in labels["dcsim_host_power_state"]
        assert values["dcsim_host_power_state", "compute-01"] == 0
        assert values["dcsim_host_temperature", "compute-01"] == AMBIENT_CELSIUS
        assert values["dcsim_host_uptime", "compute-01"] == 0
        # Zone nova has HA off: its instances on compute-01 stay down.
        assert values["dcsim_vm_cpu_usage", "instance-001"] == 0 and values["dcsim_vm_cpu_usage", "instance-003"] == 0
        assert values["dcsim_vm_cpu_usage", "instance-002"] == before["dcsim_vm_cpu_usage", "instance-002"]
        assert values["dcsim_cluster_overcommit_ratio", "nova"] == 1 / 48  # instance-002 on compute-02 only


async def test_disk_full_raises_disk_io_and_memory(make_dcsim):
    async with make_dcsim() as dc:
        before = scrape(dc, T0)
        await dc.sim.inject("disk-full", {"datastore": "ds-01"})
        during = scrape(dc, T0)
        for vm, vcpus in (("vm-001", 2), ("vm-002", 2), ("vm-003", 4)):
            assert during["dcsim_vm_disk_io", vm] == DISK_PEAK_PER_VCPU * vcpus > before["dcsim_vm_disk_io", vm]
            assert during["dcsim_vm_memory_usage", vm] >= 0.9
        # Instances have no disk on ds-01.
        assert during["dcsim_vm_disk_io", "instance-001"] == before["dcsim_vm_disk_io", "instance-001"]


async def test_partition_silences_the_network(make_dcsim):
    async with make_dcsim() as dc:
        before = scrape(dc, T0)
        await dc.sim.inject("network-partition", {"network": "private-net"})
        during = scrape(dc, T0)
        assert [during["dcsim_vm_net_io", f"instance-00{i}"] for i in (1, 2, 3)] == [0, 0, 0]
        assert during["dcsim_vm_net_io", "vm-001"] == before["dcsim_vm_net_io", "vm-001"] > 0


class BrownOut:
    """A fault kind of a test plugin that degrades a physical server."""

    @hookimpl
    def dcsim_sim_register_fault_kinds(self, registry):
        def inject(sim, fault, params, change):
            blade = sim.blade(params["blade"])
            fault.targets.append(Target("blade", blade.id, blade.name))
            blade.status = HealthStatus.DEGRADED
            change.save(blade)

        def undo(sim, fault, change):
            blade = sim.blade(fault.targets[0].id)
            blade.status = HealthStatus.OK
            change.save(blade)

        registry.add("brown-out", description="a server runs degraded", params={"blade": "server"}, inject=inject,
                     undo=undo)  # fmt: skip


async def test_degraded_server_heats_its_host(make_dcsim):
    async with make_dcsim(BladeHost(), BrownOut()) as dc:
        before = scrape(dc, T0)
        fault = await dc.sim.inject("brown-out", {"blade": "c01s04"})
        hotter = scrape(dc, T0)["dcsim_host_temperature", "esxi-03"]
        assert hotter == pytest.approx(before["dcsim_host_temperature", "esxi-03"] + 15)
        await dc.sim.clear_fault(fault.id)
        assert scrape(dc, T0)["dcsim_host_temperature", "esxi-03"] == before["dcsim_host_temperature", "esxi-03"]
