"""The runner's Prometheus series, read from the store's runs at scrape time.

``dcsim_ansible_queued_runs``
    Runs accepted and waiting for a worker (status ``queued``): the runner's queue depth.
``dcsim_ansible_running_runs``
    Runs a worker is executing now.

Runs are documents of the shared store, so every process reports the same figures
whichever worker takes the runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from dcsim.store.base import Store
from dcsim_ansible.runbook import RUNS


class RunnerCollector:
    """Counts the runs of ``store`` by status when scraped."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        """Queued and running runs."""
        statuses = Counter(document.value.get("status") for document in self.store.list(RUNS))
        queued = GaugeMetricFamily("dcsim_ansible_queued_runs", "Automation runs waiting for a runner worker.")
        queued.add_metric([], statuses["queued"])
        yield queued
        running = GaugeMetricFamily("dcsim_ansible_running_runs", "Automation runs a runner worker is executing.")
        running.add_metric([], statuses["running"])
        yield running
