"""Drift's Prometheus series: ``dcsim_drift_open_count`` and ``dcsim_drift_events_total``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dcsim.drift.model import LIVE_STATES

if TYPE_CHECKING:
    from dcsim.drift.service import DriftService


class DriftCollector:
    """Reads the drift service's events at scrape time."""

    def __init__(self, drift: DriftService) -> None:
        self.drift = drift

    def collect(self) -> Iterator[Metric]:
        """Open events by category and severity; every event ever opened, by category."""
        events = list(self.drift.events.values())
        live = Counter((e.category.value, e.severity) for e in events if e.state in LIVE_STATES)
        gauge = GaugeMetricFamily(
            "dcsim_drift_open_count", "Drift events not resolved", labels=["category", "severity"]
        )
        for (category, severity), count in sorted(live.items()):
            gauge.add_metric([category, severity], count)
        yield gauge
        total = CounterMetricFamily("dcsim_drift_events", "Drift events opened", labels=["category"])
        for category, count in sorted(Counter(e.category.value for e in events).items()):
            total.add_metric([category], count)
        yield total
