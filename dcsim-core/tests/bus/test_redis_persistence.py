"""A Redis crash with an fsync-always append-only file loses neither events nor pending deliveries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from redis_server import RedisServer

from dcsim.bus.redis import RedisBus
from dcsim.model import Event
from dcsim.settings import Settings


async def test_redis_restart_keeps_every_event_and_redelivers_the_pending_ones(
    start_redis: Callable[..., RedisServer],
) -> None:
    server = start_redis(["--appendonly", "yes", "--appendfsync", "always"])
    settings = Settings(
        redis_url=server.url,
        bus_driver="redis",
        bus_stream="test:persistence",
        bus_redelivery_seconds=0.3,
        bus_max_deliveries=3,
    )
    before_crash = RedisBus(settings)
    after_crash = RedisBus(settings)
    try:
        await before_crash.ensure_group("runner")
        events = [Event(type="patch.run.started", source="/tests/bus", data={"n": n}) for n in range(20)]
        ids = [await before_crash.publish(event) for event in events]
        read = await before_crash.read("runner", "doomed", count=8, block_seconds=0.1)
        assert [d.message_id for d in read] == ids[:8]

        # SIGKILL, not a clean shutdown: only what reached the append-only file survives.
        server.restart(kill=True)

        # The old client reconnects by itself and sees the whole stream and the pending entries.
        assert await before_crash.recent(count=100) == list(zip(ids, events, strict=True))
        assert await before_crash.pending("runner") == 8

        await asyncio.sleep(settings.bus_redelivery_seconds + 0.05)
        deliveries = await after_crash.read("runner", "survivor", count=100, block_seconds=0.1)

        assert [(d.message_id, d.attempt) for d in deliveries] == [(i, 2) for i in ids[:8]] + [(i, 1) for i in ids[8:]]
        assert [d.event for d in deliveries] == events
        assert {d.consumer for d in deliveries} == {"survivor"}
        for delivery in deliveries:
            await after_crash.ack("runner", delivery.message_id)
        assert await after_crash.pending("runner") == 0
        assert await after_crash.dead_letters() == []
    finally:
        await before_crash.close()
        await after_crash.close()
