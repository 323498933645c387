"""The event bus's Prometheus series, per subscriber group, and the outbox's depth.

``dcsim_bus_lag_events{group}``
    Events on the stream the group has not been handed yet (:meth:`EventBus.lag`).
``dcsim_bus_pending_events{group}``
    Events handed to the group's consumers and not acknowledged (:meth:`EventBus.pending`).
``dcsim_outbox_pending_events``
    Events committed with their change and not yet published on the bus (the
    store's outbox, shared by every process on the store).

The bus drivers are asynchronous and the registry is rendered in a worker thread, so a
scrape asks the instance's event loop for a fresh sample and waits for it at most
:data:`SAMPLE_TIMEOUT_SECONDS`; when the loop or the bus does not answer in time, the
scrape reports the last sample. The bus series are left out while the bus cannot be
reached (a stale backlog would mislead); the outbox is reported whatever the bus does.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs
import structlog
from prometheus_client.core import GaugeMetricFamily, Metric

from dcsim.errors import DcsimError

if TYPE_CHECKING:
    from dcsim.app import DcSim

log = structlog.get_logger(__name__)

#: How long a scrape waits for a fresh sample before it reports the last one.
SAMPLE_TIMEOUT_SECONDS = 2.0


@attrs.frozen
class BusSample:
    """One reading: per group, the lag and the pending deliveries; the outbox depth."""

    lag: dict[str, int] = attrs.field(factory=dict)
    pending: dict[str, int] = attrs.field(factory=dict)
    outbox: int | None = None


class BusCollector:
    """Samples the bus and the outbox of an instance when scraped (see the module's docstring)."""

    def __init__(self) -> None:
        self.last = BusSample()
        self._dcsim: DcSim | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refresh: asyncio.Task[None] | None = None

    async def start(self, dcsim: DcSim) -> None:
        """Sample ``dcsim`` from now on, on its event loop (the first scrape takes the first
        sample: a bus that is down at start-up must not hold the start-up)."""
        self._dcsim = dcsim
        self._loop = asyncio.get_running_loop()

    def stop(self) -> None:
        """Forget the loop: later scrapes report the last sample."""
        self._loop = None

    async def sample(self) -> None:
        """Read every subscriber group's lag and pending count, and the outbox depth."""
        dcsim = self._dcsim
        if dcsim is None:
            return
        groups = sorted({subscriber.group for subscriber in dcsim.subscribers.values()})
        lag: dict[str, int] = {}
        pending: dict[str, int] = {}
        outbox: int | None = None
        try:
            for group in groups:
                lag[group] = await dcsim.bus.lag(group)
                pending[group] = await dcsim.bus.pending(group)
        except DcsimError as exc:
            log.warning("bus.metrics_unavailable", error=exc.detail)
            lag, pending = {}, {}
        try:
            outbox = await asyncio.to_thread(dcsim.store.outbox_count)
        except DcsimError as exc:
            log.warning("outbox.metrics_unavailable", error=exc.detail)
        self.last = BusSample(lag=lag, pending=pending, outbox=outbox)

    def _fresh(self) -> BusSample:
        loop = self._loop
        if loop is None or loop.is_closed():
            return self.last
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            # Rendered on the loop itself: it cannot wait for the loop; sample for the next scrape.
            if self._refresh is None or self._refresh.done():
                self._refresh = loop.create_task(self.sample())
            return self.last
        future = asyncio.run_coroutine_threadsafe(self.sample(), loop)
        try:
            future.result(timeout=SAMPLE_TIMEOUT_SECONDS)
        except concurrent.futures.TimeoutError:
            future.cancel()
        except Exception:  # a scrape must not fail over one collector
            log.exception("bus.metrics_failed")
        return self.last

    def collect(self) -> Iterator[Metric]:
        """The series of a fresh sample, or of the last one (see the module's docstring)."""
        current = self._fresh()
        lag = GaugeMetricFamily(
            "dcsim_bus_lag_events", "Events a subscriber group has not been handed yet.", labels=["group"]
        )
        pending = GaugeMetricFamily(
            "dcsim_bus_pending_events",
            "Events handed to a subscriber group and not yet acknowledged.",
            labels=["group"],
        )
        for group in sorted(current.lag):
            lag.add_metric([group], current.lag[group])
            pending.add_metric([group], current.pending[group])
        yield lag
        yield pending
        if current.outbox is not None:
            outbox = GaugeMetricFamily(
                "dcsim_outbox_pending_events", "Events committed with their change and not yet published on the bus."
            )
            outbox.add_metric([], current.outbox)
            yield outbox
