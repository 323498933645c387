"""The in-process event bus: the embedded default, with the same semantics as Redis Streams.

Everything lives in the memory of one process, so nothing survives a restart and only
that process's consumers share a group.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import math
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import attrs

from dcsim.bus.base import DeadLetter, Delivery, EventBus
from dcsim.errors import NotFound

if TYPE_CHECKING:
    from dcsim.model import Event
    from dcsim.settings import Settings


@attrs.frozen
class _Entry:
    message_id: str
    event: Event
    published_at: float


@attrs.define
class _Pending:
    position: int
    delivered_at: float
    attempts: int


@attrs.define
class _Group:
    # Log position of the next event this group has not been handed yet.
    cursor: int
    # Insertion order is first-delivery order, which is log order, like a Redis PEL.
    pending: dict[str, _Pending] = attrs.field(factory=dict)


class MemoryBus(EventBus):
    """An asyncio event bus in one process: an ordered log, consumer groups, dead letters.

    Every event gets a log position (its index since the bus was created) and a Redis-style
    message id ``<milliseconds>-<sequence>``. Readers and tails wait on one condition that
    ``publish`` notifies, so nothing polls.
    """

    name = "memory"
    shared = False

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        # A bounded deque drops the oldest event on append: that is length retention.
        self._log: collections.deque[_Entry] = collections.deque(maxlen=self.retention_max_len)
        self._next_position = 0
        self._groups: dict[str, _Group] = {}
        self._dead: collections.deque[DeadLetter] = collections.deque(maxlen=self.retention_max_len)
        self._changed = asyncio.Condition()
        self._last_ms = 0
        self._seq = 0

    @property
    def _first_position(self) -> int:
        return self._next_position - len(self._log)

    def _new_id(self) -> str:
        ms = int(time.time() * 1000)
        if ms > self._last_ms:
            self._last_ms, self._seq = ms, 0
        else:
            # Same millisecond, or the clock went back: ids must still increase.
            self._seq += 1
        return f"{self._last_ms}-{self._seq}"

    async def ping(self) -> None:
        """Always reachable: the bus is this process."""

    async def publish(self, event: Event) -> str:
        """Append ``event`` to the log, wake readers and tails, and return its message id."""
        async with self._changed:
            message_id = self._new_id()
            self._log.append(_Entry(message_id, event, time.time()))
            self._next_position += 1
            self._changed.notify_all()
        return message_id

    async def ensure_group(self, group: str) -> None:
        """Create ``group`` positioned after the newest event, unless it exists."""
        self._groups.setdefault(group, _Group(cursor=self._next_position))

    async def read(self, group: str, consumer: str, count: int = 10, block_seconds: float = 1.0) -> list[Delivery]:
        """Hand overdue pending deliveries, then new events, to ``consumer`` of ``group``.

        Raises :class:`~dcsim.errors.NotFound` when the group does not exist. While
        waiting, the read also wakes up when a pending delivery becomes overdue.
        """
        state = self._groups.get(group)
        if state is None:
            raise NotFound(f"consumer group {group!r} does not exist on stream {self.stream!r}")
        deadline = time.monotonic() + block_seconds
        async with self._changed:
            while True:
                now = time.monotonic()
                deliveries = self._redeliver(group, state, consumer, count, now)
                deliveries += self._deliver_new(group, state, consumer, count - len(deliveries), now)
                remaining = deadline - now
                if deliveries or remaining <= 0:
                    return deliveries
                try:
                    async with asyncio.timeout(min(remaining, self._until_overdue(state, now))):
                        await self._changed.wait()
                except TimeoutError:
                    pass

    def _redeliver(self, group: str, state: _Group, consumer: str, count: int, now: float) -> list[Delivery]:
        deliveries: list[Delivery] = []
        for message_id, pending in list(state.pending.items()):
            if len(deliveries) >= count:
                break
            if now - pending.delivered_at < self.redelivery_seconds:
                continue
            index = pending.position - self._first_position
            if index < 0:
                # Retention dropped the event while it was pending: there is nothing to hand out.
                del state.pending[message_id]
                continue
            event = self._log[index].event
            if pending.attempts >= self.max_deliveries:
                del state.pending[message_id]
                self._dead.append(DeadLetter(message_id, event, group, pending.attempts))
                continue
            pending.attempts += 1
            pending.delivered_at = now
            deliveries.append(Delivery(message_id, event, group, consumer, pending.attempts))
        return deliveries

    def _deliver_new(self, group: str, state: _Group, consumer: str, count: int, now: float) -> list[Delivery]:
        # Events trimmed before this group read them are skipped, as Redis does.
        state.cursor = max(state.cursor, self._first_position)
        start = state.cursor - self._first_position
        deliveries = []
        for entry in itertools.islice(self._log, start, start + max(count, 0)):
            state.pending[entry.message_id] = _Pending(position=state.cursor, delivered_at=now, attempts=1)
            state.cursor += 1
            deliveries.append(Delivery(entry.message_id, entry.event, group, consumer, 1))
        return deliveries

    def _until_overdue(self, state: _Group, now: float) -> float:
        """Seconds until the first pending delivery of ``state`` becomes overdue."""
        due = min((p.delivered_at + self.redelivery_seconds for p in state.pending.values()), default=math.inf)
        return due - now

    async def ack(self, group: str, message_id: str) -> None:
        """Forget the pending delivery; unknown groups and ids are ignored, like ``XACK``."""
        state = self._groups.get(group)
        if state is not None:
            state.pending.pop(message_id, None)

    async def pending(self, group: str) -> int:
        """Deliveries of ``group`` not acknowledged yet; 0 for an unknown group."""
        state = self._groups.get(group)
        return len(state.pending) if state is not None else 0

    async def lag(self, group: str) -> int:
        """Events after the group's cursor still in the log; 0 for an unknown group."""
        state = self._groups.get(group)
        if state is None:
            return 0
        return self._next_position - max(state.cursor, self._first_position)

    async def dead_letters(self, group: str | None = None, count: int = 100) -> list[DeadLetter]:
        """The oldest ``count`` dead letters, of ``group`` or of all groups."""
        matching = (letter for letter in self._dead if group is None or letter.group == group)
        return list(itertools.islice(matching, count))

    async def recent(self, count: int = 100) -> list[tuple[str, Event]]:
        """The newest ``count`` retained events, oldest first."""
        start = max(len(self._log) - count, 0)
        return [(entry.message_id, entry.event) for entry in itertools.islice(self._log, start, None)]

    async def tail(self) -> AsyncIterator[tuple[str, Event]]:
        """Yield every event published after the first iteration, as it is published.

        A tail that falls behind the length retention skips the events dropped meanwhile.
        """
        position = self._next_position
        while True:
            async with self._changed:
                while self._next_position == position:
                    await self._changed.wait()
                start = max(position, self._first_position) - self._first_position
                batch = list(itertools.islice(self._log, start, None))
                position = self._next_position
            # Yield outside the lock: a slow consumer must not hold up publishers.
            for entry in batch:
                yield entry.message_id, entry.event

    async def trim(self) -> int:
        """Drop events published more than ``retention_max_age_seconds`` ago."""
        cutoff = time.time() - self.retention_max_age_seconds
        dropped = 0
        while self._log and self._log[0].published_at < cutoff:
            self._log.popleft()
            dropped += 1
        return dropped
