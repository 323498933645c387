"""The event bus contract (``dcsim.bus.base``), run against every driver."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from redis_server import RedisServer, free_port

from dcsim.bus.base import EventBus
from dcsim.bus.redis import RedisBus
from dcsim.errors import NotFound, Unavailable
from dcsim.model import Event
from dcsim.settings import Settings


def make_event(type: str = "test.happened", **data: Any) -> Event:
    return Event(type=type, source="/tests/bus", data=data)


async def publish_all(bus: EventBus, count: int) -> list[str]:
    return [await bus.publish(make_event(n=n)) for n in range(count)]


async def wait_overdue(bus: EventBus) -> None:
    await asyncio.sleep(bus.redelivery_seconds + 0.05)


async def test_publish_and_recent_keep_the_whole_envelope(bus: EventBus) -> None:
    event = Event(
        type="vm.power_changed",
        source="/sim/vmware",
        subject="vm-001",
        data={"power": "off", "previous": "on", "tags": ["a", "b"], "nested": {"cpu": 2, "ratio": 0.5, "ok": None}},
        time=datetime(2026, 11, 26, 12, 30, 15, 123456, tzinfo=UTC),
        schemaversion=3,
    )
    first = await bus.publish(event)
    other = make_event(n=2)
    second = await bus.publish(other)

    assert await bus.recent() == [(first, event), (second, other)]
    [(_, got), _] = await bus.recent()
    assert got.time.tzinfo is not None
    assert tuple(map(int, first.split("-"))) < tuple(map(int, second.split("-")))


async def test_recent_returns_the_newest_oldest_first(bus: EventBus) -> None:
    ids = await publish_all(bus, 5)

    recent = await bus.recent(count=2)

    assert [message_id for message_id, _ in recent] == ids[-2:]
    assert [event.data["n"] for _, event in recent] == [3, 4]


async def test_two_groups_each_get_every_event(bus: EventBus) -> None:
    await bus.ensure_group("cmdb")
    await bus.ensure_group("drift")
    ids = await publish_all(bus, 3)

    for group in ("cmdb", "drift"):
        deliveries = await bus.read(group, "worker-1", count=10, block_seconds=0.1)
        assert [d.message_id for d in deliveries] == ids
        assert {(d.group, d.consumer, d.attempt) for d in deliveries} == {(group, "worker-1", 1)}
        assert [d.event.data["n"] for d in deliveries] == [0, 1, 2]


async def test_a_group_gets_the_events_published_after_it_was_created(bus: EventBus) -> None:
    await bus.publish(make_event(n="before"))
    await bus.ensure_group("late")
    after = await bus.publish(make_event(n="after"))
    await bus.ensure_group("late")

    deliveries = await bus.read("late", "worker-1", block_seconds=0.1)

    assert [d.message_id for d in deliveries] == [after]


async def test_consumers_of_one_group_share_the_events_without_duplicates(bus: EventBus) -> None:
    await bus.ensure_group("runner")
    ids = await publish_all(bus, 10)

    first = await bus.read("runner", "worker-1", count=4, block_seconds=0.1)
    second = await bus.read("runner", "worker-2", count=10, block_seconds=0.1)

    assert len(first) == 4
    assert [d.message_id for d in first + second] == ids
    assert await bus.read("runner", "worker-1", block_seconds=0.05) == []
    assert await bus.read("runner", "worker-2", block_seconds=0.05) == []


async def test_read_waits_for_an_event_published_meanwhile(bus: EventBus) -> None:
    await bus.ensure_group("waiting")

    reader = asyncio.create_task(bus.read("waiting", "worker-1", block_seconds=5))
    await asyncio.sleep(0.1)
    message_id = await bus.publish(make_event())
    deliveries = await asyncio.wait_for(reader, timeout=2)

    assert [d.message_id for d in deliveries] == [message_id]


async def test_read_from_an_unknown_group_raises_not_found(bus: EventBus) -> None:
    with pytest.raises(NotFound):
        await bus.read("nobody", "worker-1", block_seconds=0.05)
    assert await bus.pending("nobody") == 0


async def test_ack_removes_the_delivery_from_pending(bus: EventBus) -> None:
    await bus.ensure_group("itsm")
    await publish_all(bus, 3)
    deliveries = await bus.read("itsm", "worker-1", block_seconds=0.1)
    assert await bus.pending("itsm") == 3

    await bus.ack("itsm", deliveries[0].message_id)
    assert await bus.pending("itsm") == 2
    for delivery in deliveries:
        await bus.ack("itsm", delivery.message_id)
    await bus.ack("itsm", deliveries[0].message_id)

    assert await bus.pending("itsm") == 0
    await wait_overdue(bus)
    assert await bus.read("itsm", "worker-2", block_seconds=0.05) == []


async def test_lag_counts_the_events_a_group_has_not_been_handed(bus: EventBus) -> None:
    assert await bus.lag("nobody") == 0
    await bus.ensure_group("cmdb")
    assert await bus.lag("cmdb") == 0

    await publish_all(bus, 5)
    assert await bus.lag("cmdb") == 5
    deliveries = await bus.read("cmdb", "worker-1", count=2, block_seconds=0.1)

    assert len(deliveries) == 2
    assert await bus.lag("cmdb") == 3, "handed out is no longer lag"
    assert await bus.pending("cmdb") == 2, "but pending until acknowledged"
    await bus.ensure_group("late")
    assert await bus.lag("late") == 0, "a group created now starts after the published events"
    await bus.read("cmdb", "worker-1", count=10, block_seconds=0.1)
    assert await bus.lag("cmdb") == 0


async def test_publish_many_appends_in_order_like_publish(bus: EventBus) -> None:
    await bus.ensure_group("itsm")
    assert await bus.publish_many([]) == []
    events = [make_event(n=n) for n in range(5)]
    ids = await bus.publish_many(events)
    assert len(set(ids)) == 5
    deliveries = await bus.read("itsm", "worker-1", count=10, block_seconds=0.1)
    assert [delivery.message_id for delivery in deliveries] == ids
    assert [delivery.event for delivery in deliveries] == events
    assert [event for _, event in await bus.recent(5)] == events


async def test_ack_many_acknowledges_a_whole_read_at_once(bus: EventBus) -> None:
    await bus.ensure_group("itsm")
    await publish_all(bus, 5)
    deliveries = await bus.read("itsm", "worker-1", count=5, block_seconds=0.1)
    assert len(deliveries) == 5

    await bus.ack_many("itsm", [])
    await bus.ack_many("itsm", [delivery.message_id for delivery in deliveries[:4]])
    assert await bus.pending("itsm") == 1
    await wait_overdue(bus)
    # Only the one left out is handed out again.
    again = await bus.read("itsm", "worker-2", block_seconds=0.1)
    assert [delivery.message_id for delivery in again] == [deliveries[4].message_id]
    assert again[0].attempt == 2


async def test_unacknowledged_delivery_goes_to_another_consumer_after_the_timeout(bus: EventBus) -> None:
    await bus.ensure_group("patch")
    message_id = await bus.publish(make_event())
    [first] = await bus.read("patch", "doomed", block_seconds=0.1)
    assert first.attempt == 1
    assert await bus.read("patch", "survivor", block_seconds=0.05) == []

    # The survivor's read is already waiting when the delivery becomes overdue.
    started = time.monotonic()
    [again] = await bus.read("patch", "survivor", block_seconds=5)

    assert time.monotonic() - started < bus.redelivery_seconds + 1
    assert (again.message_id, again.consumer, again.attempt) == (message_id, "survivor", 2)
    assert again.event == first.event
    assert await bus.pending("patch") == 1
    await bus.ack("patch", message_id)
    assert await bus.pending("patch") == 0


async def test_overdue_deliveries_come_before_new_events(bus: EventBus) -> None:
    await bus.ensure_group("ordering")
    old = await bus.publish(make_event(n="old"))
    await bus.read("ordering", "doomed", block_seconds=0.1)
    new = await bus.publish(make_event(n="new"))
    await wait_overdue(bus)

    deliveries = await bus.read("ordering", "survivor", count=10, block_seconds=0.1)

    assert [(d.message_id, d.attempt) for d in deliveries] == [(old, 2), (new, 1)]


async def test_delivery_failing_max_deliveries_times_is_dead_lettered(bus: EventBus) -> None:
    await bus.ensure_group("drift")
    await bus.ensure_group("cmdb")
    event = make_event("drift.detected", field="firmware")
    message_id = await bus.publish(event)

    attempts = []
    for _ in range(bus.max_deliveries):
        [delivery] = await bus.read("drift", "flaky", block_seconds=2)
        attempts.append(delivery.attempt)
    assert attempts == list(range(1, bus.max_deliveries + 1))

    # The next hand-out would be attempt max_deliveries + 1: it is dead-lettered instead.
    assert await bus.read("drift", "flaky", block_seconds=bus.redelivery_seconds + 0.3) == []

    [letter] = await bus.dead_letters("drift")
    assert (letter.message_id, letter.group, letter.attempts) == (message_id, "drift", bus.max_deliveries)
    assert letter.event == event
    assert await bus.pending("drift") == 0
    assert await bus.dead_letters("cmdb") == []
    assert await bus.dead_letters() == [letter]
    [other_group] = await bus.read("cmdb", "worker-1", block_seconds=0.1)
    assert other_group.message_id == message_id


async def test_dead_letters_returns_the_oldest_count(bus: EventBus) -> None:
    await bus.ensure_group("g")
    ids = await publish_all(bus, 3)
    for _ in range(bus.max_deliveries):
        assert len(await bus.read("g", "flaky", block_seconds=2)) == 3
    await wait_overdue(bus)
    assert await bus.read("g", "flaky", block_seconds=0.05) == []

    assert [letter.message_id for letter in await bus.dead_letters("g", count=2)] == ids[:2]
    assert [letter.message_id for letter in await bus.dead_letters(count=5)] == ids


async def test_length_retention_keeps_about_max_len_newest_events(make_bus: Callable[..., Any]) -> None:
    bus: EventBus = await make_bus(bus_retention_max_len=50)
    ids = await publish_all(bus, 400)

    retained = [message_id for message_id, _ in await bus.recent(count=1000)]

    # Redis trims whole radix-tree nodes (100 entries by default), so "about" means up to one node more.
    assert 50 <= len(retained) <= 150
    assert retained == ids[-len(retained) :]


async def test_trim_drops_events_older_than_the_age_retention(make_bus: Callable[..., Any]) -> None:
    bus: EventBus = await make_bus(bus_retention_max_age_seconds=0.5)
    await publish_all(bus, 3)
    await asyncio.sleep(0.6)
    fresh = await publish_all(bus, 2)

    assert await bus.trim() == 3
    assert [message_id for message_id, _ in await bus.recent()] == fresh
    assert await bus.trim() == 0


async def test_pending_delivery_of_a_trimmed_event_is_dropped(make_bus: Callable[..., Any]) -> None:
    bus: EventBus = await make_bus(bus_retention_max_age_seconds=0.1)
    await bus.ensure_group("g")
    await bus.publish(make_event())
    await bus.read("g", "doomed", block_seconds=0.1)
    await wait_overdue(bus)
    assert await bus.trim() == 1

    assert await bus.read("g", "survivor", block_seconds=0.05) == []
    assert await bus.pending("g") == 0
    assert await bus.dead_letters("g") == []


async def start_tail(bus: EventBus) -> tuple[asyncio.Task[None], list[Event]]:
    """Run a tail in a task until it sees a ``test.last`` event; return once it is live."""
    seen: list[Event] = []

    async def collect() -> None:
        async for _, event in bus.tail():
            seen.append(event)
            if event.type == "test.last":
                return

    task = asyncio.create_task(collect())
    # A tail starts when it first waits, so publish markers until one comes through.
    deadline = time.monotonic() + 5
    while not seen:
        assert time.monotonic() < deadline, "the tail never started"
        await bus.publish(make_event("test.sync"))
        await asyncio.sleep(0.02)
    return task, seen


async def test_tail_sees_every_event_published_after_it_started_and_none_before(bus: EventBus) -> None:
    await bus.publish(make_event("test.before"))
    first_task, first_seen = await start_tail(bus)
    second_task, second_seen = await start_tail(bus)

    for n in range(5):
        await bus.publish(make_event("test.after", n=n))
    await bus.publish(make_event("test.last"))
    await asyncio.wait_for(asyncio.gather(first_task, second_task), timeout=5)

    for seen in (first_seen, second_seen):
        types = [event.type for event in seen]
        assert "test.before" not in types
        assert [event.data["n"] for event in seen if event.type == "test.after"] == [0, 1, 2, 3, 4]
        assert types[-1] == "test.last"
        assert set(types) <= {"test.sync", "test.after", "test.last"}


async def test_tail_needs_no_group_and_no_ack(bus: EventBus) -> None:
    await bus.ensure_group("g")
    task, _ = await start_tail(bus)
    await bus.publish(make_event("test.last"))
    await asyncio.wait_for(task, timeout=5)

    deliveries = await bus.read("g", "worker-1", count=100, block_seconds=0.1)

    assert deliveries
    assert await bus.pending("g") == len(deliveries)


async def test_a_cancelled_tail_ends(bus: EventBus) -> None:
    async def publish_forever() -> None:
        while True:
            await bus.publish(make_event("test.noise"))
            await asyncio.sleep(0.001)

    async def consume() -> None:
        async for _ in bus.tail():
            pass

    publisher = asyncio.create_task(publish_forever())
    try:
        for _ in range(10):
            consumer = asyncio.create_task(consume())
            await asyncio.sleep(random.uniform(0, 0.05))
            consumer.cancel()
            await asyncio.wait_for(asyncio.gather(consumer, return_exceptions=True), timeout=6)
            assert consumer.cancelled()
    finally:
        publisher.cancel()
        await asyncio.wait_for(asyncio.gather(publisher, return_exceptions=True), timeout=5)


def redis_settings(url: str) -> Settings:
    return Settings(redis_url=url, bus_driver="redis")


async def test_redis_that_is_not_running_is_unavailable() -> None:
    bus = RedisBus(redis_settings(f"redis://:secret@127.0.0.1:{free_port()}/0"))
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable) as raised:
            await bus.ping()
        assert time.monotonic() - started < 3
        assert "Redis at redis://:***@127.0.0.1" in raised.value.detail
        assert "secret" not in raised.value.detail
        with pytest.raises(Unavailable):
            await bus.publish(make_event())
    finally:
        await bus.close()


async def test_redis_that_stopped_is_unavailable(start_redis: Callable[..., RedisServer]) -> None:
    server = start_redis()
    bus = RedisBus(redis_settings(server.url))
    try:
        await bus.ping()
        server.stop()
        with pytest.raises(Unavailable):
            await bus.ping()
        with pytest.raises(Unavailable):
            await bus.read("g", "worker-1", block_seconds=0.1)
    finally:
        await bus.close()


async def test_redis_lag_counts_the_entries_when_xinfo_cannot_tell(redis_server: RedisServer) -> None:
    settings = Settings(redis_url=redis_server.url, bus_driver="redis", bus_stream=f"test:{time.time_ns()}")
    bus = RedisBus(settings)
    await bus.start()
    try:
        await bus.ensure_group("cmdb")
        ids = await publish_all(bus, 4)
        # An entry deleted inside the group's backlog: Redis reports its lag as nil.
        await bus._client.xdel(bus.stream, ids[1])
        [info] = await bus._client.xinfo_groups(bus.stream)
        assert info["lag"] is None

        assert await bus.lag("cmdb") == 3
    finally:
        await bus.close()
