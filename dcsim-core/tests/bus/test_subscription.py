"""SubscriptionRunner: one subscriber's handler fed from the bus, on every driver."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import structlog
from redis_server import RedisServer
from structlog.testing import capture_logs

from dcsim.bus import subscription
from dcsim.bus.base import EventBus
from dcsim.bus.redis import RedisBus
from dcsim.bus.subscription import SubscriptionRunner
from dcsim.model import Event
from dcsim.registry import Subscriber
from dcsim.settings import Settings

DCSIM = object()


def make_event(type: str = "test.happened", **data: Any) -> Event:
    return Event(type=type, source="/tests/bus", data=data)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until ``check`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Log entries of the runner; a fresh logger, since the module's may be cached already."""
    with capture_logs() as captured:
        monkeypatch.setattr(subscription, "log", structlog.get_logger(subscription.__name__))
        yield captured


def runner_for(bus: EventBus, subscriber: Subscriber) -> SubscriptionRunner:
    return SubscriptionRunner(bus, subscriber, DCSIM, block_seconds=0.1)


async def test_runner_hands_matching_events_to_the_handler_and_acks_everything(bus: EventBus) -> None:
    received: list[tuple[object, Event]] = []

    async def handler(dcsim: Any, event: Event) -> None:
        received.append((dcsim, event))

    subscriber = Subscriber("cmdb-sync", handler, ("vm.*",))
    await bus.ensure_group(subscriber.group)
    runner = runner_for(bus, subscriber)
    runner.start()
    try:
        created = make_event("vm.created", name="vm-001")
        await bus.publish(created)
        await bus.publish(make_event("host.degraded"))
        destroyed = make_event("vm.destroyed", name="vm-001")
        await bus.publish(destroyed)

        async def all_handled() -> bool:
            return len(received) == 2 and await bus.pending(subscriber.group) == 0

        await eventually(all_handled)
    finally:
        await runner.stop()

    assert received == [(DCSIM, created), (DCSIM, destroyed)]
    assert not runner.running


async def test_handler_that_keeps_failing_ends_in_the_dead_letters(bus: EventBus, logs: list[dict[str, Any]]) -> None:
    calls: list[int] = []

    async def handler(dcsim: Any, event: Event) -> None:
        calls.append(event.data["n"])
        raise RuntimeError("remediation failed")

    subscriber = Subscriber("drift-remediation", handler, ("drift.*",))
    await bus.ensure_group(subscriber.group)
    runner = runner_for(bus, subscriber)
    runner.start()
    try:
        event = make_event("drift.detected", n=1)
        message_id = await bus.publish(event)

        async def dead_lettered() -> bool:
            return bool(await bus.dead_letters(subscriber.group))

        await eventually(dead_lettered)
    finally:
        await runner.stop()

    [letter] = await bus.dead_letters(subscriber.group)
    assert (letter.message_id, letter.event, letter.attempts) == (message_id, event, bus.max_deliveries)
    assert calls == [1] * bus.max_deliveries
    assert await bus.pending(subscriber.group) == 0
    failures = [entry for entry in logs if entry["event"] == "subscriber.handler_failed"]
    assert [entry["attempt"] for entry in failures] == list(range(1, bus.max_deliveries + 1))
    assert {(entry["group"], entry["event_id"], entry["message_id"]) for entry in failures} == {
        (subscriber.group, event.id, message_id)
    }
    assert all(entry["log_level"] == "error" and entry["exc_info"] for entry in failures)


async def test_handler_that_recovers_is_acknowledged_on_the_successful_attempt(bus: EventBus) -> None:
    calls = 0

    async def handler(dcsim: Any, event: Event) -> None:
        nonlocal calls
        calls += 1
        if calls < 2:
            raise RuntimeError("transient")

    subscriber = Subscriber("itsm-rules", handler)
    await bus.ensure_group(subscriber.group)
    runner = runner_for(bus, subscriber)
    runner.start()
    try:
        await bus.publish(make_event())

        async def handled() -> bool:
            return calls == 2 and await bus.pending(subscriber.group) == 0

        await eventually(handled)
    finally:
        await runner.stop()

    assert await bus.dead_letters(subscriber.group) == []


async def test_stop_is_clean_and_repeatable(bus: EventBus) -> None:
    async def handler(dcsim: Any, event: Event) -> None:
        return None

    runner = runner_for(bus, Subscriber("idle", handler))
    await runner.stop()
    runner.start()
    await asyncio.sleep(0.05)
    assert runner.running

    await runner.stop()
    await runner.stop()

    assert not runner.running
    assert runner.consumer


async def test_stop_returns_while_events_flow(bus: EventBus) -> None:
    async def handler(dcsim: Any, event: Event) -> None:
        await asyncio.sleep(0)

    subscriber = Subscriber("busy", handler)
    await bus.ensure_group(subscriber.group)

    async def publish_forever() -> None:
        while True:
            await bus.publish(make_event())
            await asyncio.sleep(0.001)

    publisher = asyncio.create_task(publish_forever())
    try:
        # Each cycle cancels the runner at a random point of its read/handle/ack loop.
        for _ in range(20):
            runner = runner_for(bus, subscriber)
            runner.start()
            await asyncio.sleep(random.uniform(0, 0.05))
            await asyncio.wait_for(runner.stop(), timeout=3)
            assert not runner.running
    finally:
        publisher.cancel()
        await asyncio.wait_for(asyncio.gather(publisher, return_exceptions=True), timeout=5)


async def test_stop_returns_even_if_the_handler_swallows_the_cancellation(bus: EventBus) -> None:
    entered = asyncio.Event()

    async def handler(dcsim: Any, event: Event) -> None:
        entered.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(30)

    subscriber = Subscriber("stubborn", handler)
    await bus.ensure_group(subscriber.group)
    runner = runner_for(bus, subscriber)
    runner.start()
    await bus.publish(make_event())
    await asyncio.wait_for(entered.wait(), timeout=5)

    await asyncio.wait_for(runner.stop(), timeout=3)

    assert not runner.running


async def test_runner_outlives_a_redis_outage(
    start_redis: Callable[..., RedisServer], logs: list[dict[str, Any]]
) -> None:
    server = start_redis()
    bus = RedisBus(Settings(redis_url=server.url, bus_driver="redis", bus_redelivery_seconds=0.3))
    received: list[Event] = []

    async def handler(dcsim: Any, event: Event) -> None:
        received.append(event)

    async def delivered() -> bool:
        await bus.publish(make_event())
        await asyncio.sleep(0.1)
        return bool(received)

    runner = runner_for(bus, Subscriber("ops", handler))
    runner.start()
    try:
        await eventually(delivered)
        server.stop()

        async def noticed() -> bool:
            return any(entry["event"] == "bus.unavailable" for entry in logs)

        await eventually(noticed)
        received.clear()
        # The restarted server kept nothing: the runner has to create its group again.
        server.start()
        await eventually(delivered, timeout=15)
    finally:
        await runner.stop()
        await bus.close()

    assert runner.running is False
    events = [entry["event"] for entry in logs]
    assert "bus.group_missing" in events
    unavailable = next(entry for entry in logs if entry["event"] == "bus.unavailable")
    assert unavailable["group"] == "ops"
    assert unavailable["log_level"] == "warning"


def test_read_count_doubles_while_reads_come_back_full_and_halves_back() -> None:
    count = subscription.ReadCount(10, cap=60)
    sizes = []
    for delivered in [10, 20, 40, 60, 60, 25, 12, 3, 0]:
        count.update(delivered)
        sizes.append(count.value)
    assert sizes == [20, 40, 60, 60, 60, 30, 15, 10, 10]
    count.update(count.value)
    count.update(count.value, slow=True)
    assert count.value == 10


async def test_runner_reads_a_backlog_in_growing_reads_then_back_to_its_count(bus: EventBus) -> None:
    handled: list[int] = []

    async def handler(dcsim: Any, event: Event) -> None:
        handled.append(event.data["n"])

    subscriber = Subscriber("backlog", handler, ("test.*",))
    await bus.ensure_group(subscriber.group)
    await bus.publish_many([make_event(n=n) for n in range(700)])
    asked: list[tuple[int, int]] = []
    read = bus.read

    async def recording_read(group: str, consumer: str, count: int = 10, block_seconds: float = 1.0) -> Any:
        deliveries = await read(group, consumer, count, block_seconds)
        asked.append((count, len(deliveries)))
        return deliveries

    bus.read = recording_read  # type: ignore[method-assign]
    runner = SubscriptionRunner(bus, subscriber, DCSIM, count=10, block_seconds=0.1, max_count=200)
    runner.start()
    try:
        await eventually(lambda: _true(len(handled) == 700))
        await eventually(lambda: _true(runner.read_count.value == 10))
    finally:
        await runner.stop()
    assert handled == list(range(700))
    counts = [count for count, _ in asked]
    assert counts[:6] == [10, 20, 40, 80, 160, 200]
    assert max(counts) == 200
    assert await bus.pending(subscriber.group) == 0


async def _true(value: bool) -> bool:
    return value
