"""The bus's Prometheus series (dcsim.bus.metrics): lag and pending per subscriber group, outbox depth."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from dcsim import hookimpl


class StuckSubscriber:
    """A consumer group whose handler holds the first event it gets until released."""

    def __init__(self) -> None:
        self.got: list[Any] = []
        self.release = asyncio.Event()

    @hookimpl
    def dcsim_register_subscribers(self, registry: Any) -> None:
        async def handle(dcsim: Any, event: Any) -> None:
            self.got.append(event)
            await self.release.wait()

        registry.add("test-stuck", handle, ("test.*",))

    @hookimpl
    def dcsim_register_event_types(self, registry: Any) -> None:
        registry.add("test.happened", description="a test event")


def series(client: Any, name: str) -> dict[str, float]:
    """The samples of ``name`` by their ``group`` label ("" when it has none)."""
    text = client.get("/metrics").text
    return {
        s.labels.get("group", ""): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def wait(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_lag_and_pending_per_group_on_each_scrape(make_client):
    stuck = StuckSubscriber()
    client = make_client(stuck)
    groups = {s.group for s in client.sim.subscribers.values()}
    assert set(series(client, "dcsim_bus_lag_events")) == groups
    assert series(client, "dcsim_bus_pending_events")["test-stuck"] == 0

    for n in range(3):
        assert client.post("/events", json={"type": "test.happened", "data": {"n": n}}).status_code in (200, 201, 202)
    wait(lambda: stuck.got)
    # Every event on the bus, none left in the outbox.
    client.call(client.sim.relay.drain)

    lag, pending = series(client, "dcsim_bus_lag_events"), series(client, "dcsim_bus_pending_events")
    assert pending["test-stuck"] >= 1, "the held event is handed out, not acknowledged"
    assert lag["test-stuck"] + pending["test-stuck"] == 3
    client.call(stuck.release.set)
    wait(lambda: series(client, "dcsim_bus_pending_events")["test-stuck"] == 0)
    assert series(client, "dcsim_bus_lag_events")["test-stuck"] == 0


def test_outbox_depth_counts_the_events_waiting_for_the_relay(make_client):
    client = make_client(outbox_relay=False)
    before = client.sim.store.outbox_count()
    assert series(client, "dcsim_outbox_pending_events") == {"": before}

    for n in range(4):
        response = client.post("/events", json={"type": "dcsim.token.revoked", "data": {"id": str(n)}})
        assert response.status_code < 300, response.text

    assert series(client, "dcsim_outbox_pending_events") == {"": before + 4}
