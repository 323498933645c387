"""The redis bus's command packing writes the bytes redis-py's own does, and a bus using
it talks to a real Redis (the contract suite runs every command through it too)."""

from __future__ import annotations

from typing import Any

import pytest
import redis.exceptions
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis_server import RedisServer

from dcsim.bus.redis import LinearPacking, RedisBus
from dcsim.model import Event
from dcsim.settings import Settings


class _Packing(LinearPacking, Connection):
    pass


@pytest.mark.parametrize(
    "args",
    [
        ("PING",),
        ("CONFIG GET", "maxmemory"),
        (b"CLIENT SETNAME", b"x"),
        ("XACK", "stream", "group", *(f"1796037959694-{n}" for n in range(300))),
        ("EVALSHA", "0" * 40, 1, "stream", 100_000, *(b'{"data": "%d"}' % n * 50 for n in range(200))),
        ("SET", "k\u00e9\u2603", 1.5, "EX", 10, memoryview(b"view"), bytearray(b"array"), -7, 2**70),
        ("SET", "k", "x" * 10_000),
    ],
    ids=["ping", "words", "byte-words", "xack", "evalsha", "types", "large"],
)
def test_packing_writes_what_redis_py_writes(args: tuple[Any, ...]) -> None:
    ours = b"".join(_Packing().pack_command(*args))
    assert ours == b"".join(bytes(chunk) for chunk in Connection().pack_command(*args))


def test_packing_refuses_what_redis_py_refuses() -> None:
    for value in (True, None, object()):
        with pytest.raises(redis.exceptions.DataError):
            _Packing().pack_command("SET", "k", value)


async def test_every_connection_class_of_the_bus_packs_linearly(redis_server: RedisServer, tmp_path: Any) -> None:
    bus = RedisBus(Settings(redis_url=redis_server.url, bus_stream="test:packing"))
    try:
        pool_class = bus._client.connection_pool.connection_class
        assert issubclass(pool_class, LinearPacking) and issubclass(pool_class, Connection)
        await bus.ensure_group("g")
        await bus.publish_many([Event(type="t.n", source="/tests", data={"n": n}) for n in range(500)])
        deliveries = await bus.read("g", "c", count=500, block_seconds=0)
        assert [d.event.data["n"] for d in deliveries] == list(range(500))
        await bus.ack_many("g", [d.message_id for d in deliveries])
        assert await bus.pending("g") == 0
    finally:
        await bus.close()
    unix = RedisBus(Settings(redis_url=f"unix://{tmp_path}/redis.sock"))
    assert issubclass(unix._client.connection_pool.connection_class, UnixDomainSocketConnection)
    assert issubclass(unix._client.connection_pool.connection_class, LinearPacking)
    await unix.close()
