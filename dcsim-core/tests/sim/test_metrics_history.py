"""Recent metrics of a VM or host (GET /sim/vms/{vm}/metrics, /sim/hosts/{host}/metrics):
the current bucket is what /metrics shows, past buckets what it showed then."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from dcsim.sim.metrics import BUCKET_SECONDS
from dcsim.sim.metrics_history import MAX_BUCKETS, MetricsHistory
from dcsim.sim.model import Host, Vm

from .conftest import BladeHost
from .test_metrics import T0, BrownOut, Values, parse, scrape

VM_FIELDS = {
    "cpu_usage": "dcsim_vm_cpu_usage",
    "memory_usage": "dcsim_vm_memory_usage",
    "disk_io": "dcsim_vm_disk_io",
    "net_io": "dcsim_vm_net_io",
}
HOST_FIELDS = {"power": "dcsim_host_power_state", "temperature": "dcsim_host_temperature"}


def same_bucket(client, paths: list[str]) -> tuple[str, list[dict]]:
    """/metrics and the JSON of ``paths`` read within one time bucket (retried across a
    bucket's edge)."""
    for _ in range(3):
        before = time.time() // BUCKET_SECONDS
        text = client.get("/metrics").text
        answers = [client.get(path) for path in paths]
        if time.time() // BUCKET_SECONDS == before:
            assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
            return text, [a.json() for a in answers]
    raise AssertionError("three bucket edges in a row")


def host_load(values: Values, client, host: str) -> tuple[float, float]:
    """A host's CPU and memory load computed from /metrics' VM series."""
    world = client.sim.sim.world
    found = world.get(Host, host)
    vms = [vm for vm in world.vms_on(found) if vm.power_state.value == "on"]
    cpu = sum(values["dcsim_vm_cpu_usage", vm.name] * vm.cpu for vm in vms) / found.cpu_cores
    memory = sum(values["dcsim_vm_memory_usage", vm.name] * vm.memory_mb for vm in vms) / found.memory_mb
    return min(1.0, cpu), min(1.0, memory)


def assert_current_bucket_matches_metrics(client) -> None:
    world = client.sim.sim.world
    vms = [vm.name for vm in world.all(Vm)]
    hosts = [host.name for host in world.all(Host)]
    paths = [f"/sim/vms/{vm}/metrics?buckets=3" for vm in vms] + [f"/sim/hosts/{h}/metrics?buckets=3" for h in hosts]
    text, answers = same_bucket(client, paths)
    values, _ = parse(text)
    for name, answer in zip(vms + hosts, answers, strict=True):
        assert answer["name"] == name and answer["bucket_seconds"] == BUCKET_SECONDS
        assert len(answer["points"]) == 3
        current = answer["points"][-1]
        bucket = int(time.time() // BUCKET_SECONDS)
        assert datetime.fromisoformat(current["at"]) == datetime.fromtimestamp(bucket * BUCKET_SECONDS, tz=UTC)
        fields = VM_FIELDS if name in vms else HOST_FIELDS
        for field, series in fields.items():
            assert current[field] == values[series, name], (name, field)
        if name in hosts:
            cpu, memory = host_load(values, client, name)
            assert current["cpu_usage"] == pytest.approx(cpu) and current["memory_usage"] == pytest.approx(memory)


def test_the_current_bucket_is_what_metrics_shows(make_client):
    client = make_client()
    assert_current_bucket_matches_metrics(client)


async def _faulted(client) -> None:
    sim = client.sim.sim
    await sim.set_load_profile("vm-001", "spiking")
    await sim.set_load_profile("vm-002", "stressed")
    await sim.power("vm-003", "off")
    await sim.inject("host-failure", {"host": "compute-01"})
    await sim.inject("disk-full", {"datastore": "ds-01"})
    await sim.inject("network-partition", {"network": "private-net"})
    await sim.inject("brown-out", {"blade": "c01s04"})


def test_the_current_bucket_is_what_metrics_shows_under_faults(make_client):
    client = make_client(BladeHost(), BrownOut())
    client.call(_faulted, client)
    answer = client.get("/sim/hosts/compute-01/metrics?buckets=2").json()
    assert [p["power"] for p in answer["points"]] == [0, 0]  # the failed host is off in every bucket
    assert_current_bucket_matches_metrics(client)


async def test_past_buckets_are_what_metrics_showed_then(make_dcsim):
    async with make_dcsim(BladeHost(), BrownOut()) as dc:
        await dc.sim.set_load_profile("vm-001", "spiking")
        await dc.sim.inject("brown-out", {"blade": "c01s04"})
        history = MetricsHistory(dc.sim, dc.settings.sim_seed)
        now = T0 + 7  # inside the bucket that starts at T0
        _, vm_samples = history.vm("vm-001", 12, now)
        _, host_samples = history.host("esxi-03", 12, now)
        assert [s.at.timestamp() for s in vm_samples] == [T0 - (11 - i) * BUCKET_SECONDS for i in range(12)]
        for vm_sample, host_sample in zip(vm_samples, host_samples, strict=True):
            then = scrape(dc, vm_sample.at.timestamp())
            assert [getattr(vm_sample, f) for f in VM_FIELDS] == [then[s, "vm-001"] for s in VM_FIELDS.values()]
            assert host_sample.temperature == then["dcsim_host_temperature", "esxi-03"]
            assert host_sample.power == then["dcsim_host_power_state", "esxi-03"] == 1
        # Spiking: the series moves between buckets.
        assert len({s.cpu_usage for s in vm_samples}) > 6


def test_a_viewer_reads_them_and_the_default_is_40_buckets(make_client):
    client = make_client(role="viewer")
    answer = client.get("/sim/vms/vm-001/metrics")
    assert answer.status_code == 200
    assert len(answer.json()["points"]) == 40
    assert client.get("/sim/hosts/esxi-01/metrics").status_code == 200


@pytest.mark.parametrize("value", ["0", str(MAX_BUCKETS + 1), "-1", "ten", "2.5"])
@pytest.mark.parametrize("path", ["/sim/vms/vm-001/metrics", "/sim/hosts/esxi-01/metrics"])
def test_buckets_out_of_bounds_is_a_problem_naming_it(dcsim_client, path, value):
    answer = dcsim_client.get(path, params={"buckets": value})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert any(error["field"] == "buckets" for error in answer.json()["errors"])


@pytest.mark.parametrize("path", ["/sim/vms/no-such-vm/metrics", "/sim/hosts/no-such-host/metrics"])
def test_an_unknown_object_is_a_404_problem(dcsim_client, path):
    answer = dcsim_client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_without_a_token_it_is_401(make_client):
    assert make_client(role=None).get("/sim/vms/vm-001/metrics").status_code == 401


def test_the_openapi_document_describes_them(dcsim_client):
    document = dcsim_client.get("/schema/openapi.json").json()
    for path, model in (("/sim/vms/{vm}/metrics", "VmMetrics"), ("/sim/hosts/{host}/metrics", "HostMetrics")):
        operation = document["paths"][path]["get"]
        (buckets,) = [p for p in operation["parameters"] if p["name"] == "buckets"]
        assert buckets["schema"]["minimum"] == 1 and buckets["schema"]["maximum"] == MAX_BUCKETS
        assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(model)
        assert {"400", "401", "403", "404", "429"} <= operation["responses"].keys()
    point = document["components"]["schemas"]["HostMetricsPoint"]
    assert set(point["required"]) == {"at", "power", "temperature", "cpu_usage", "memory_usage"}
