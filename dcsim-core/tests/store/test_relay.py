"""The outbox relay with several processes on one database (SQLite and PostgreSQL).

Each "process" is a store of its own on the same database (its own engine and
connections) with a relay of its own; they publish on one bus object that says it is
shared, as every process on one Redis would see it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import attrs
from sqlalchemy import func, select

from dcsim.bus.memory import MemoryBus
from dcsim.bus.relay import LEASE_NAME, OutboxRelay
from dcsim.model import Event, utcnow
from dcsim.settings import Settings
from dcsim.store.sql import SqlStore
from dcsim.store.tables import idempotency_table, outbox_table


class SharedMemoryBus(MemoryBus):
    """The in-process bus, declared shared so that relays take the lease as on Redis."""

    shared = True


async def test_two_relays_on_one_database_publish_each_event_once_in_order(
    make_store: Callable[[], SqlStore], settings: Settings
) -> None:
    first, second = make_store(), make_store()
    first.upgrade()
    bus = SharedMemoryBus(settings)
    relays = [OutboxRelay(first, bus, settings, holder="a"), OutboxRelay(second, bus, settings, holder="b")]
    for relay in relays:
        relay.start()
    try:
        for n in range(60):
            store = first if n % 2 else second
            await asyncio.to_thread(
                store.add_event, Event(type="thing.happened", source="/test", subject=f"thing/{n}", data={"n": n})
            )
        async with asyncio.timeout(30):
            while await asyncio.to_thread(first.outbox_count):
                await asyncio.sleep(0.05)
        published = [event.data["n"] for _, event in await bus.recent(1000)]
    finally:
        for relay in relays:
            await relay.stop()

    assert published == list(range(60))


async def test_a_relay_waits_for_the_lease_of_a_live_holder_and_takes_an_expired_one(
    make_store: Callable[[], SqlStore], settings: Settings
) -> None:
    store = make_store()
    store.upgrade()
    bus = SharedMemoryBus(settings)
    store.add_event(Event(type="thing.happened", source="/test"))
    assert store.take_lease(LEASE_NAME, "crashed-process", 30)

    relay = OutboxRelay(store, bus, settings, holder="restarted")
    assert await relay.relay_once() == 0  # the holder's lease is live: nothing published
    assert await bus.recent() == []

    assert store.take_lease(LEASE_NAME, "crashed-process", 0.0)  # as if it expired
    assert await relay.relay_once() == 1
    assert [event.type for _, event in await bus.recent()] == ["thing.happened"]
    assert store.outbox_count() == 0


async def test_the_relay_prunes_sent_events_and_expired_keys_after_their_retention(
    make_store: Callable[[], SqlStore], settings: Settings
) -> None:
    store = make_store()
    store.upgrade()
    short = attrs.evolve(settings, outbox_retention_seconds=1e-6, idempotency_retention_seconds=1e-6)
    bus = MemoryBus(short)
    store.add_event(Event(type="thing.happened", source="/test"))
    assert store.idempotency_reserve("key", "fingerprint", utcnow() - timedelta(days=1)) is None
    relay = OutboxRelay(store, bus, short)
    relay.start()
    try:
        await relay.drain()
    finally:
        await relay.stop()

    assert [event.type for _, event in await bus.recent()] == ["thing.happened"]
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(outbox_table)).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(idempotency_table)).scalar_one() == 0
