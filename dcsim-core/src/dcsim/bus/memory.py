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
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

import attrs

from dcsim.bus.base import DeadLetter, Delivery, EventBus
from dcsim.errors import NotFound

if TYPE_CHECKING:
    from dcsim.model import Event
    from dcsim.settings import Settings

_new_tuple = tuple.__new__


class _Ring:
    """The log: a fixed number of slots reused in turn, so that the entry at any log
    position is one list index away (a deque walks to the middle), and length retention
    is overwriting the oldest slot.

    A slot is three parallel lists (message id, event, publish time) rather than a list of
    tuples: nothing the ring keeps is a container of its own, so the retained events add
    no objects to the garbage collector's oldest generation beyond the events themselves
    (a tuple per event made the full collections that retention triggers cost half of a
    busy bus's time; issue #18).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._ids: list[str] = []
        self._events: list[Event | None] = []
        self._times: list[float] = []
        #: Log position of the oldest entry kept, and of the next one to be appended.
        self.first = 0
        self.next = 0

    def __len__(self) -> int:
        return self.next - self.first

    def append(self, message_id: str, event: Event, published_at: float) -> None:
        position = self.next
        if position < self.capacity:
            self._ids.append(message_id)
            self._events.append(event)
            self._times.append(published_at)
        else:
            slot = position % self.capacity
            self._ids[slot] = message_id
            self._events[slot] = event
            self._times[slot] = published_at
            if position - self.first >= self.capacity:
                self.first = position + 1 - self.capacity
        self.next = position + 1

    def event(self, position: int) -> Event:
        """The event at ``position`` (which must be kept: ``first <= position < next``)."""
        event = self._events[position % self.capacity]
        assert event is not None
        return event

    def published_at(self, position: int) -> float:
        """When the event at ``position`` (kept) was published (``time.time()``)."""
        return self._times[position % self.capacity]

    def between(self, start: int, stop: int) -> tuple[int, list[str], list[Event]]:
        """The kept entries from position ``start`` up to ``stop``, oldest first: the
        position of the first, their message ids and their events."""
        start, stop = max(start, self.first), min(stop, self.next)
        if start >= stop:
            return start, [], []
        low, high = start % self.capacity, (stop - 1) % self.capacity
        # One or two slices of each slot list: the range may wrap around its end.
        if low <= high:
            ids, events = self._ids[low : high + 1], self._events[low : high + 1]
        else:
            ids = self._ids[low:] + self._ids[: high + 1]
            events = self._events[low:] + self._events[: high + 1]
        return start, ids, events  # type: ignore[return-value]

    def drop_oldest(self) -> None:
        self._events[self.first % self.capacity] = None
        self.first += 1


class _Pending(NamedTuple):
    # A tuple, replaced on redelivery (a dict keeps a key's place when its value changes):
    # one is made per delivered event, at a third of an attrs instance's cost.
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
    message id ``<milliseconds>-<sequence>``. Readers and tails wait on a future of their
    own that the next ``publish`` resolves, so nothing polls. Nothing here awaits between
    reading and changing the log (one event loop), so no lock is needed; the log is a ring
    of slots, so a read costs the events it hands out whatever the log's length.
    """

    name = "memory"
    shared = False

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        # Appending to a full ring drops the oldest event: that is length retention.
        self._log = _Ring(self.retention_max_len)
        self._groups: dict[str, _Group] = {}
        self._dead: collections.deque[DeadLetter] = collections.deque(maxlen=self.retention_max_len)
        # Futures of the readers and tails waiting for the next publish.
        self._waiters: list[asyncio.Future[None]] = []
        self._last_ms = 0
        self._seq = 0

    @property
    def _first_position(self) -> int:
        return self._log.first

    @property
    def _next_position(self) -> int:
        return self._log.next

    def _new_id(self, now: float) -> str:
        ms = int(now * 1000)
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
        now = time.time()
        message_id = self._new_id(now)
        self._log.append(message_id, event, now)
        if self._waiters:
            self._wake()
        return message_id

    async def publish_many(self, events: Sequence[Event]) -> list[str]:
        """Append ``events`` in order, waking readers once; their message ids."""
        now = time.time()
        ids = []
        for event in events:
            message_id = self._new_id(now)
            self._log.append(message_id, event, now)
            ids.append(message_id)
        self._wake()
        return ids

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait(self, timeout: float) -> None:
        """Until the next publish, at most ``timeout`` seconds."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(None if math.isinf(timeout) else timeout):
                await waiter
        except TimeoutError:
            pass
        finally:
            if not waiter.done():
                waiter.cancel()
                self._waiters.remove(waiter)

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
        while True:
            now = time.monotonic()
            deliveries = self._redeliver(group, state, consumer, count, now) if state.pending else []
            deliveries += self._deliver_new(group, state, consumer, count - len(deliveries), now)
            remaining = deadline - now
            if deliveries or remaining <= 0:
                return deliveries
            await self._wait(min(remaining, self._until_overdue(state, now)))

    def _redeliver(self, group: str, state: _Group, consumer: str, count: int, now: float) -> list[Delivery]:
        deliveries: list[Delivery] = []
        for message_id, pending in list(state.pending.items()):
            if len(deliveries) >= count:
                break
            if now - pending.delivered_at < self.redelivery_seconds:
                continue
            if pending.position < self._first_position:
                # Retention dropped the event while it was pending: there is nothing to hand out.
                del state.pending[message_id]
                continue
            event = self._log.event(pending.position)
            if pending.attempts >= self.max_deliveries:
                del state.pending[message_id]
                self._dead.append(DeadLetter(message_id, event, group, pending.attempts))
                continue
            attempts = pending.attempts + 1
            state.pending[message_id] = _Pending(pending.position, now, attempts)
            deliveries.append(_new_tuple(Delivery, (message_id, event, group, consumer, attempts)))
        return deliveries

    def _deliver_new(self, group: str, state: _Group, consumer: str, count: int, now: float) -> list[Delivery]:
        # Events trimmed before this group read them are skipped, as Redis does.
        state.cursor = max(state.cursor, self._first_position)
        start, ids, events = self._log.between(state.cursor, state.cursor + max(count, 0))
        if not ids:
            return []
        # Hot path (issue #18): tuples built with tuple.__new__, no Python-level __new__.
        pending = state.pending
        for position, message_id in enumerate(ids, start):
            pending[message_id] = _new_tuple(_Pending, (position, now, 1))
        state.cursor = start + len(ids)
        return [
            _new_tuple(Delivery, (message_id, event, group, consumer, 1))
            for message_id, event in zip(ids, events, strict=True)
        ]

    def _until_overdue(self, state: _Group, now: float) -> float:
        """Seconds until the first pending delivery of ``state`` becomes overdue."""
        due = min((p.delivered_at + self.redelivery_seconds for p in state.pending.values()), default=math.inf)
        return due - now

    async def ack(self, group: str, message_id: str) -> None:
        """Forget the pending delivery; unknown groups and ids are ignored, like ``XACK``."""
        state = self._groups.get(group)
        if state is not None:
            state.pending.pop(message_id, None)

    async def ack_many(self, group: str, message_ids: Sequence[str]) -> None:
        """Forget several pending deliveries at once."""
        state = self._groups.get(group)
        if state is not None:
            for message_id in message_ids:
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
        _, ids, events = self._log.between(self._next_position - count, self._next_position)
        return list(zip(ids, events, strict=True))

    async def tail(self) -> AsyncIterator[tuple[str, Event]]:
        """Yield every event published after the first iteration, as it is published.

        A tail that falls behind the length retention skips the events dropped meanwhile.
        """
        position = self._next_position
        while True:
            while self._next_position == position:
                await self._wait(math.inf)
            _, ids, events = self._log.between(position, self._next_position)
            position = self._next_position
            for message_id, event in zip(ids, events, strict=True):
                yield message_id, event

    async def trim(self) -> int:
        """Drop events published more than ``retention_max_age_seconds`` ago."""
        cutoff = time.time() - self.retention_max_age_seconds
        dropped = 0
        while self._log and self._log.published_at(self._first_position) < cutoff:
            self._log.drop_oldest()
            dropped += 1
        return dropped
