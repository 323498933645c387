"""Patch's Prometheus series: ``dcsim_patch_compliance_pct`` and ``dcsim_patch_pending_cves``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily, Metric

from dcsim.patch.compliance import roll_up

if TYPE_CHECKING:
    from dcsim.patch.service import PatchService


class PatchCollector:
    """Reads the patch service's CI states at scrape time (as the last scans left them)."""

    def __init__(self, patch: PatchService) -> None:
        self.patch = patch

    def collect(self) -> Iterator[Metric]:
        """Compliance percent and distinct pending CVEs, by OS (and ``all``)."""
        states = list(self.patch.states.values())
        groups = roll_up(states, lambda s: s.os_type) | roll_up(states, lambda _: "all")
        pct = GaugeMetricFamily("dcsim_patch_compliance_pct", "Percent of scanned CIs compliant", labels=["os"])
        cves = GaugeMetricFamily("dcsim_patch_pending_cves", "Distinct CVEs pending on scanned CIs", labels=["os"])
        for name, group in sorted(groups.items()):
            pct.add_metric([name], group["compliance_pct"])
            cves.add_metric([name], group["pending_cves"])
        yield pct
        yield cves
