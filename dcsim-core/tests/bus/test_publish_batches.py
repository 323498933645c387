"""Concurrent publishes share batches (one command on Redis): each call still gets its own
id, in the order the calls were made, and the redis batch command survives Redis losing
its script cache; an error reaches every publish of the batch."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.exceptions
from redis_server import RedisServer

from dcsim.bus.base import EventBus
from dcsim.bus.redis import RedisBus
from dcsim.model import Event
from dcsim.settings import Settings


def _order(message_id: str) -> tuple[int, int]:
    ms, seq = message_id.split("-")
    return int(ms), int(seq)


async def test_concurrent_publishes_keep_the_order_of_the_calls(bus: EventBus) -> None:
    await bus.ensure_group("g")
    events = [Event(type="t.n", source="/tests", data={"n": n}) for n in range(300)]
    ids = await asyncio.gather(*(bus.publish(event) for event in events))
    assert len(set(ids)) == 300
    assert sorted(ids, key=_order) == ids
    deliveries = await bus.read("g", "c", count=1000, block_seconds=0.1)
    assert [(d.message_id, d.event) for d in deliveries] == list(zip(ids, events, strict=True))


async def test_the_batch_command_survives_a_lost_script_cache(redis_server: RedisServer) -> None:
    bus = RedisBus(Settings(redis_url=redis_server.url, bus_stream="test:script-cache"))
    try:
        await bus.ensure_group("g")
        first = await bus.publish(Event(type="t.n", source="/tests", data={"n": 1}))
        # As after a Redis restart: the script must be loaded again, transparently.
        await bus._client.script_flush()
        second = await bus.publish_many([Event(type="t.n", source="/tests", data={"n": 2})])
        deliveries = await bus.read("g", "c", count=10, block_seconds=0.1)
        assert [d.message_id for d in deliveries] == [first, *second]
    finally:
        await bus.close()


async def test_an_error_reaches_every_publish_of_the_batch(redis_server: RedisServer) -> None:
    bus = RedisBus(Settings(redis_url=redis_server.url, bus_stream="test:not-a-stream"))
    try:
        await bus._client.set(bus.stream, "a string, not a stream")
        results: list[Any] = await asyncio.gather(
            *(bus.publish(Event(type="t.n", source="/tests")) for _ in range(20)), return_exceptions=True
        )
        assert len(results) == 20
        assert all(isinstance(result, redis.exceptions.ResponseError) for result in results)
        assert "WRONGTYPE" in str(results[0])
    finally:
        await bus._client.delete(bus.stream)
        await bus.close()
