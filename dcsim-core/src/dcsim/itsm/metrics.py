"""ITSM's Prometheus series, read from the incident records at scrape time.

``dcsim_itsm_open_incidents{priority}``
    Incidents in ``new``, ``in_progress`` or ``on_hold``, one series per priority P1..P4
    (zeros included, so a dashboard has data on a quiet estate).
``dcsim_itsm_mttr_seconds``
    Mean time to resolve: over every incident that is resolved or closed now, the mean
    of ``resolved_at - created_at`` in wall-clock seconds (time on hold included: the
    user waited through it). A reopened incident leaves the average until it is resolved
    again. NaN while no incident has been resolved (there is nothing to average).
``dcsim_itsm_sla_breaches_total{priority,kind}``
    A counter: SLA targets (``response``, ``resolution``) missed, over every incident
    ever opened. Each target of an incident is counted once, when the SLA monitor
    records it (``Sla.breached`` only grows and incidents are never deleted, so the
    count never goes down).
``dcsim_itsm_sla_breached_incidents{priority}``
    A gauge: open incidents with at least one missed target, what an alert waits on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dcsim.itsm.model import PRIORITIES, IncidentState
from dcsim.itsm.sla import RESOLUTION, RESPONSE

if TYPE_CHECKING:
    from dcsim.itsm.service import Itsm

#: The states an incident is open in.
OPEN_STATES = (IncidentState.NEW, IncidentState.IN_PROGRESS, IncidentState.ON_HOLD)
_RESOLVED_STATES = (IncidentState.RESOLVED, IncidentState.CLOSED)


class ItsmCollector:
    """Reads the ITSM service's incidents at scrape time."""

    def __init__(self, itsm: Itsm) -> None:
        self.itsm = itsm

    def collect(self) -> Iterator[Metric]:
        """Open incidents, mean time to resolve and SLA breaches (see the module's docstring)."""
        incidents = self.itsm.incidents.book.all()
        open_now = [i for i in incidents if i.state in OPEN_STATES]
        by_priority = Counter(i.priority for i in open_now)
        opened = GaugeMetricFamily(
            "dcsim_itsm_open_incidents", "Incidents not resolved, closed or cancelled.", labels=["priority"]
        )
        for priority in sorted(set(PRIORITIES) | set(by_priority)):
            opened.add_metric([priority], by_priority[priority])
        yield opened

        durations = [
            (i.resolved_at - i.created_at).total_seconds()
            for i in incidents
            if i.state in _RESOLVED_STATES and i.resolved_at is not None
        ]
        mttr = GaugeMetricFamily(
            "dcsim_itsm_mttr_seconds",
            "Mean time to resolve, seconds from opening to resolution, over the incidents resolved or closed now.",
        )
        mttr.add_metric([], sum(durations) / len(durations) if durations else math.nan)
        yield mttr

        breaches = Counter((i.priority, kind) for i in incidents for kind in i.sla.breached)
        total = CounterMetricFamily(
            "dcsim_itsm_sla_breaches",
            "SLA targets missed (response, resolution), each incident's target counted once.",
            labels=["priority", "kind"],
        )
        for priority in sorted(set(PRIORITIES) | {p for p, _ in breaches}):
            for kind in (RESPONSE, RESOLUTION):
                total.add_metric([priority, kind], breaches[priority, kind])
        yield total

        breached_open = Counter(i.priority for i in open_now if i.sla.breached)
        breached = GaugeMetricFamily(
            "dcsim_itsm_sla_breached_incidents",
            "Open incidents that have missed their response or resolution target.",
            labels=["priority"],
        )
        for priority in sorted(set(PRIORITIES) | set(breached_open)):
            breached.add_metric([priority], breached_open[priority])
        yield breached
