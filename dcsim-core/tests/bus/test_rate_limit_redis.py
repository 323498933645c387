"""Rate-limit counters in Redis (the redis bus): shared by every process, and a Redis that
is gone or frozen neither delays nor refuses requests."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

import pytest
import redis

from dcsim.web import ratelimit
from dcsim.web.ratelimit import RedisCounters


def test_two_instances_on_one_redis_share_one_budget(make_client, redis_server):
    stream = f"test:{uuid.uuid4().hex}"
    shared = {"bus_driver": "redis", "redis_url": redis_server.url, "bus_stream": stream, "rate_limit": "4/minute"}
    # Same data directory, so the same token store; two apps, as two processes would be.
    first = make_client(role=None, **shared)
    second = make_client(role=None, **shared)
    viewer = first.auth_headers("viewer")
    answers = [client.get("/plugins", headers=viewer).status_code for client in (first, second, first, second)]
    assert answers == [200, 200, 200, 200]
    assert second.get("/plugins", headers=viewer).status_code == 429
    assert first.get("/plugins", headers=viewer).status_code == 429
    keys = redis.Redis.from_url(redis_server.url).keys(f"{stream}:ratelimit:*")
    assert len(keys) == 1 and 0 < redis.Redis.from_url(redis_server.url).pttl(keys[0]) <= 60_000


def test_another_instance_on_the_same_redis_has_its_own_counters(make_client, redis_server):
    base = {"bus_driver": "redis", "redis_url": redis_server.url, "rate_limit": "1/minute"}
    first = make_client(role=None, bus_stream=f"test:{uuid.uuid4().hex}", **base)
    second = make_client(role=None, bus_stream=f"test:{uuid.uuid4().hex}", **base)
    viewer = first.auth_headers("viewer")
    assert first.get("/plugins", headers=viewer).status_code == 200
    assert second.get("/plugins", headers=viewer).status_code == 200
    assert first.get("/plugins", headers=viewer).status_code == 429


@pytest.mark.parametrize("outage", ["frozen", "killed"])
def test_a_redis_outage_counts_in_memory_without_delay(start_redis, monkeypatch, outage):
    monkeypatch.setattr(ratelimit, "REDIS_RETRY_SECONDS", 1.0)
    server = start_redis()
    counters = RedisCounters(server.url, prefix=f"test:{uuid.uuid4().hex}:")

    async def scenario() -> None:
        assert (await counters.hit("k", 60))[0] == 1
        pid = server.process.pid
        if outage == "frozen":
            os.kill(pid, signal.SIGSTOP)
        else:
            server.stop(kill=True)
        try:
            started = time.monotonic()
            # Counted in memory from the first failure on: requests are neither refused nor held.
            assert [(await counters.hit("k", 60))[0] for _ in range(3)] == [1, 2, 3]
            assert time.monotonic() - started < 1.5
        finally:
            if outage == "frozen":
                os.kill(pid, signal.SIGCONT)
            else:
                server.start()
        await asyncio.sleep(1.1)
        # Back in Redis once it answers again. A frozen one kept its count and, on waking,
        # ran the one increment that timed out: it counts 3; a restarted one starts again.
        assert (await counters.hit("k", 60))[0] == (3 if outage == "frozen" else 1)
        await counters.close()

    asyncio.run(scenario())
