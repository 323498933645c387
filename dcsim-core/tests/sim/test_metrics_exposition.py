"""/metrics written as text by the simulated collector (issue #18): the same bytes as
prometheus_client's rendering of its families, joined with the registry's other collectors."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dcsim import hookimpl
from dcsim.exposition import render
from dcsim.sim.metrics import BUCKET_SECONDS, SimMetrics
from dcsim.sim.seed import generate

T0 = 1_000_000 * BUCKET_SECONDS


class Generated:
    """A generated estate of ``vms`` VMs in place of the default seed."""

    def __init__(self, vms: int) -> None:
        self.vms = vms

    @hookimpl
    def dcsim_sim_seed_topology(self, topology):
        generate(topology, datacenters=1, clusters=2, hosts=4, vms=self.vms)


def families_text(collector: SimMetrics) -> bytes:
    """What prometheus_client writes for the collector's families (the collector before #18)."""
    registry = CollectorRegistry()
    registry.register(collector)
    return generate_latest(registry)


async def test_text_equals_the_families_rendering_for_the_seed(make_dcsim):
    async with make_dcsim() as dc:
        await dc.sim.power("vm-002", "off")
        await dc.sim.inject("disk-full", {"datastore": "ds-01"})
        collector = SimMetrics(dc.sim, seed=dc.settings.sim_seed, clock=lambda: T0)
        text = collector.exposition()
        assert text == families_text(collector)
        families = {family.name: family for family in text_string_to_metric_families(text.decode())}
        assert len(families["dcsim_vm_cpu_usage"].samples) == 6
        assert families["dcsim_vm_cpu_usage"].documentation == "CPU in use, a fraction of the VM's vCPUs."
        assert families["dcsim_host_temperature"].type == "gauge"
        # A second scrape reads the label text from the cache: still the same bytes.
        assert collector.exposition() == text


async def test_text_equals_the_families_rendering_for_a_generated_estate(make_dcsim):
    async with make_dcsim(Generated(2000), sim_topology="generated") as dc:
        collector = SimMetrics(dc.sim, seed=3, clock=lambda: T0)
        text = collector.exposition()
        assert text == families_text(collector)
        samples = [s for f in text_string_to_metric_families(text.decode()) for s in f.samples]
        assert sum(s.name == "dcsim_vm_disk_io" for s in samples) == 2000
        # Large disk rates are written in Go's exponent form, as prometheus_client does.
        assert b"e+07" in text


async def test_render_joins_the_registry_collectors(make_dcsim):
    async with make_dcsim() as dc:
        registry = CollectorRegistry()
        collector = SimMetrics(dc.sim, seed=0, clock=lambda: T0)
        registry.register(collector)
        requests = Counter("other_requests", "Another collector's counter.", registry=registry)
        requests.inc(3)
        text = render(registry)
        names = {family.name for family in text_string_to_metric_families(text.decode())}
        assert {"other_requests", "dcsim_vm_cpu_usage", "dcsim_cluster_vm_count"} <= names
        assert b"other_requests_total 3.0\n" in text
        assert text.count(b"# TYPE dcsim_vm_cpu_usage gauge") == 1
        # Outside a render the collector yields its families as before.
        assert b"dcsim_vm_cpu_usage" in generate_latest(registry)


def test_metrics_route_serves_the_text_for_the_seed(dcsim_client):
    response = dcsim_client.get("/metrics")
    assert response.status_code == 200
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {"dcsim_vm_cpu_usage", "dcsim_host_uptime", "dcsim_cluster_capacity_used"} <= names
    assert response.text.count("# TYPE dcsim_vm_net_io gauge") == 1


async def test_text_of_10000_vms_is_faster_than_the_families(make_dcsim):
    async with make_dcsim(Generated(10_000), sim_topology="generated") as dc:
        collector = SimMetrics(dc.sim, seed=0, clock=lambda: T0)
        collector.exposition()  # fills the label cache, as the first scrape does

        def best_of_three(fn) -> float:
            times = []
            for _ in range(3):
                started = time.perf_counter()
                fn()
                times.append(time.perf_counter() - started)
            return min(times)

        # A ratio, not a wall-clock bound: the machine may be busy (bench/run measures ms).
        assert best_of_three(collector.exposition) * 2 < best_of_three(lambda: families_text(collector))


async def test_the_next_bucket_is_derived_before_it_starts(make_dcsim):
    async with make_dcsim() as dc:
        bucket = T0 // BUCKET_SECONDS
        now = [T0 + 1.0]
        collector = SimMetrics(dc.sim, seed=0, clock=lambda: now[0])
        current = collector.exposition()  # a scrape: prefetching is on while scrapes come
        # The timer is set for the next bucket, two seconds before it starts.
        timer = collector._prefetch
        assert timer is not None and timer.args == (bucket + 1,)
        assert abs(timer.interval - (BUCKET_SECONDS - 2.0 - 1.0)) < 1e-6
        timer.cancel()
        now[0] = T0 + BUCKET_SECONDS - 2.0
        collector._prefetch_now(bucket + 1)  # what the timer does
        ahead = collector._ahead
        assert ahead is not None and ahead.bucket == bucket + 1
        # Scrapes before the boundary still show the current bucket.
        assert collector.exposition() == current
        now[0] = T0 + BUCKET_SECONDS + 0.01
        text = collector.exposition()
        assert collector._vm_block[1] is ahead.block[1]  # at the boundary: a swap, nothing derived
        assert text == families_text(SimMetrics(dc.sim, seed=0, clock=lambda: now[0]))
        assert text != current
        # The last bucket's entries are freed by the timer thread, not by the scrape.
        assert collector._retired is not None and collector._retired[1][1] == current[: len(collector._retired[1][1])]
        timer = collector._prefetch
        assert timer is not None and timer.args == (bucket + 2,)
        timer.cancel()
        now[0] = T0 + 2 * BUCKET_SECONDS - 2.0
        collector._prefetch_now(bucket + 2)
        assert collector._retired is None


async def test_a_change_after_the_derivation_ahead_is_derived_at_the_scrape(make_dcsim):
    async with make_dcsim() as dc:
        bucket = T0 // BUCKET_SECONDS
        now = [T0 + BUCKET_SECONDS - 2.0]
        collector = SimMetrics(dc.sim, seed=0, clock=lambda: now[0])
        collector.exposition()
        collector._prefetch.cancel()
        collector._prefetch_now(bucket + 1)
        await dc.sim.power("vm-001", "off")  # after the derivation ahead, before the boundary
        now[0] = T0 + BUCKET_SECONDS + 1.0
        text = collector.exposition()
        assert b'dcsim_vm_cpu_usage{cluster="cluster-01",host="esxi-01",platform="vmware",vm="vm-001"} 0.0' in text
        assert text == families_text(SimMetrics(dc.sim, seed=0, clock=lambda: now[0]))
        collector._prefetch.cancel()


async def test_a_derivation_ahead_for_a_bucket_gone_by_is_dropped(make_dcsim):
    async with make_dcsim() as dc:
        bucket = T0 // BUCKET_SECONDS
        now = [T0 + BUCKET_SECONDS - 2.0]
        collector = SimMetrics(dc.sim, seed=0, clock=lambda: now[0])
        collector.exposition()
        collector._prefetch.cancel()
        collector._prefetch_now(bucket + 1)
        now[0] = T0 + 3 * BUCKET_SECONDS + 1.0  # no scrape in that bucket
        text = collector.exposition()
        assert collector._ahead is None
        assert text == families_text(SimMetrics(dc.sim, seed=0, clock=lambda: now[0]))
        collector._prefetch.cancel()
