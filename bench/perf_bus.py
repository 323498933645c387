"""Bus figures for bench/run: events per second end to end on each driver, and the raw
Redis anchors (``redis-benchmark`` XADD with 50 clients, unpipelined and pipelined).

End to end means what a deployment pays for each event: ``publishers`` concurrent tasks
publish ``events`` events in all while one consumer of a consumer group reads them and
acknowledges each read's deliveries together (``ack_many``), as dc-sim's subscription
runners do: ``count`` per read while it keeps up, doubling up to the runners' cap while
reads come back full (``dcsim.bus.subscription.ReadCount``); the clock stops when the last
one is acknowledged. The events are made before the clock starts (making an ``Event``, a uuid4
and a timestamp, is the publisher's cost whatever the bus; the XADD anchor makes none).
Redis is a redis-server of our own on a free loopback port, without persistence, stopped
at the end. The bus runs on uvloop, the event loop ``dcsim serve`` runs it on.
"""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvloop
from common import free_port, progress

from dcsim.bus.base import EventBus
from dcsim.bus.subscription import ReadCount
from dcsim.drivers import driver_class
from dcsim.model import Event
from dcsim.settings import Settings


@contextmanager
def redis_server() -> Iterator[str]:
    """A throw-away redis-server on 127.0.0.1; yields its URL."""
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="dcsim-bench-redis-"))
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(work)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip()
            != "PONG"
        ):
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def redis_benchmark_xadd(url: str, requests: int, clients: int, pipeline: int) -> float:
    """XADD per second from ``redis-benchmark`` (``clients`` connections, ``pipeline`` deep)."""
    port = url.rsplit(":", 1)[1].split("/")[0]
    output = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", port, "-c", str(clients), "-n", str(requests),
         "-P", str(pipeline), "--csv", "XADD", "bench:anchor", "MAXLEN", "~", "100000", "*", "event", "x" * 300],
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout  # fmt: skip
    rows = [row for row in csv.reader(io.StringIO(output)) if row and row[0].startswith("XADD")]
    if not rows:
        raise SystemExit(f"unexpected redis-benchmark output: {output[:300]!r}")
    return float(rows[-1][1])


def end_to_end(driver: str, redis_url: str | None, events: int, publishers: int, count: int, batch: int = 0) -> float:
    """Events per second published, read in a consumer group and acknowledged, on ``driver``.

    With ``batch`` 0, ``publishers`` tasks each call ``publish`` per event; with ``batch``
    N, one task calls ``publish_many`` with N events at a time, as dc-sim's outbox relay
    (every event dc-sim publishes goes through it, ``dcsim.bus.relay.BATCH`` a call).
    """
    return uvloop.run(_end_to_end(driver, redis_url, events, publishers, count, batch))


async def _end_to_end(
    driver: str, redis_url: str | None, events: int, publishers: int, count: int, batch: int
) -> float:
    values: dict[str, object] = {
        "bus_driver": driver,
        "bus_stream": f"bench:{driver}:{time.time_ns()}",
        # Retention must not drop events before the consumer reads them: it would wait forever.
        "bus_retention_max_len": events * 2,
    }
    if redis_url is not None:
        values["redis_url"] = redis_url
    bus: EventBus = driver_class("dcsim.bus", driver)(Settings(**values))  # type: ignore[arg-type]
    await bus.start()
    try:
        await bus.ensure_group("bench")
        how = f"publish_many of {batch}" if batch else f"{publishers} publishers"
        progress(f"bus {driver}: {events} events, {how}, read count {count}")
        made = [Event(type="dcsim.bench.tick", source="/bench", data={"n": number}) for number in range(events)]
        started, cpu = time.perf_counter(), time.process_time()
        consumer = asyncio.create_task(_consume(bus, events, count))
        if batch:
            for start in range(0, events, batch):
                await bus.publish_many(made[start : start + batch])
        else:
            await asyncio.gather(*(_publish(bus, made[i::publishers]) for i in range(publishers)))
        await asyncio.wait_for(consumer, timeout=600)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        # On a busy machine the wall clock waits for the cores too; the CPU time says how
        # much of it this process's own work was.
        progress(
            f"bus {driver}: {seconds:.2f} s, {cpu:.2f} s of CPU in this process ({cpu / events * 1e6:.1f} us/event)"
        )
        return events / seconds
    finally:
        await bus.close()


async def _publish(bus: EventBus, events: list[Event]) -> None:
    for event in events:
        await bus.publish(event)


async def _consume(bus: EventBus, events: int, count: int) -> None:
    seen = 0
    idle = 0
    # The read counts of dc-sim's subscription runners (SubscriptionRunner.read_count).
    read_count = ReadCount(count)
    while seen < events:
        deliveries = await bus.read("bench", "bench-1", count=read_count.value, block_seconds=1.0)
        read_count.update(len(deliveries))
        idle = 0 if deliveries else idle + 1
        if idle > 30:
            raise SystemExit(f"bus {bus.name}: nothing delivered for 30 s after {seen} of {events} events")
        # As dc-sim's subscription runners do: one acknowledgement per read.
        await bus.ack_many("bench", [delivery.message_id for delivery in deliveries])
        seen += len(deliveries)
