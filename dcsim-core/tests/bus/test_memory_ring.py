"""The memory bus's ring of slots: reads across the wrap of the slot list hand out the
kept events in log order, and a group behind the retention skips the dropped ones."""

from __future__ import annotations

import pytest

from dcsim.bus.memory import MemoryBus
from dcsim.model import Event
from dcsim.settings import Settings


@pytest.mark.parametrize("published", [5, 8, 10, 13])
async def test_reads_across_the_wrap_keep_log_order(published: int) -> None:
    bus = MemoryBus(Settings(bus_retention_max_len=5))
    await bus.ensure_group("g")
    ids = [await bus.publish(Event(type="t.n", source="/tests", data={"n": n})) for n in range(published)]
    kept = list(range(max(0, published - 5), published))
    assert [event.data["n"] for _, event in await bus.recent(100)] == kept
    assert [event.data["n"] for _, event in await bus.recent(2)] == kept[-2:]
    first = await bus.read("g", "c", count=3, block_seconds=0)
    rest = await bus.read("g", "c", count=10, block_seconds=0)
    assert [d.event.data["n"] for d in first + rest] == kept
    assert [d.message_id for d in first + rest] == ids[-len(kept) :]
    assert await bus.pending("g") == len(kept)
    await bus.ack_many("g", [d.message_id for d in first + rest])
    assert await bus.pending("g") == 0 and await bus.lag("g") == 0
