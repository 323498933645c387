"""Running a subscriber: one background task per consumer group in this process."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from typing import TYPE_CHECKING

import structlog

from dcsim.errors import NotFound, Unavailable
from dcsim.tracing import NO_TRACING, NoTracing

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.bus.base import Delivery, EventBus
    from dcsim.registry import Subscriber

log = structlog.get_logger(__name__)

_MIN_BACKOFF_SECONDS = 0.5
_MAX_BACKOFF_SECONDS = 5.0
#: The most deliveries a runner asks for in one read while its backlog lasts: a read's
#: deliveries are acknowledged after the last one is handled, so this bounds what a
#: consumer that dies redelivers, and how long the first of them waits for its ack.
MAX_READ_COUNT = 1000


class ReadCount:
    """How many deliveries to ask for in the next read: ``base`` while the group keeps up,
    doubling (up to ``cap``) while reads come back full, halving back towards ``base``
    when a read brings less than half of what it asked for, or when handling a read took
    long (issue #18: "read counts that fit the load"; a backlog is then drained in fewer
    round trips, each acknowledged in one command).
    """

    def __init__(self, base: int = 10, cap: int = MAX_READ_COUNT) -> None:
        self.base = max(1, base)
        self.cap = max(self.base, cap)
        self.value = self.base

    def update(self, delivered: int, slow: bool = False) -> None:
        """Adjust after a read that handed out ``delivered`` deliveries; ``slow`` when
        handling them took long enough that a bigger read could go overdue before its ack."""
        if slow:
            self.value = max(self.value // 2, self.base)
        elif delivered >= self.value:
            self.value = min(self.value * 2, self.cap)
        elif delivered < self.value // 2:
            self.value = max(self.value // 2, self.base)


def consumer_name() -> str:
    """A consumer name unique to this process: ``<hostname>-<pid>-<random>``."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class SubscriptionRunner:
    """Feed the events of one consumer group to a subscriber's handler, in a background task.

    Each delivery whose type the subscriber wants is passed to its handler and acknowledged
    when the handler returns (a read's deliveries together, after the last one); other
    deliveries are acknowledged with them. A handler
    that raises is logged and its delivery left unacknowledged, so the bus redelivers it
    and eventually dead-letters it. The loop outlives an unavailable bus: it logs, backs
    off (doubling from 0.5 s to 5 s) and tries again, re-creating the group if the bus
    lost it.

    Args:
        bus: the event bus to read from.
        subscriber: the group, handler and event types to run.
        dcsim: the instance passed to the handler as its first argument.
        consumer: this runner's consumer name in the group; ``<hostname>-<pid>-<random>`` by default.
        count: deliveries fetched per read while the group keeps up; while reads come back
            full it doubles up to ``max_count`` (:class:`ReadCount`).
        max_count: the most deliveries fetched per read during a backlog.
        block_seconds: how long one read waits for events.
        tracing: a span per handled event (``dcsim.tracing``); none by default.
    """

    def __init__(
        self,
        bus: EventBus,
        subscriber: Subscriber,
        dcsim: DcSim,
        consumer: str | None = None,
        *,
        count: int = 10,
        block_seconds: float = 1.0,
        tracing: NoTracing = NO_TRACING,
        max_count: int = MAX_READ_COUNT,
    ) -> None:
        self.bus = bus
        self.tracing = tracing
        self.subscriber = subscriber
        self.dcsim = dcsim
        self.consumer = consumer or consumer_name()
        self.count = count
        self.read_count = ReadCount(count, max_count)
        self.block_seconds = block_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def running(self) -> bool:
        """True while the background task runs."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the background task (in the running event loop); a no-op if it runs."""
        if not self.running:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name=f"dcsim-subscription-{self.subscriber.group}")

    async def stop(self) -> None:
        """Cancel the background task and wait until it has finished.

        A delivery whose handler was interrupted stays unacknowledged and is redelivered.
        """
        if self._task is None:
            return
        # The event ends the loop even if the cancellation gets lost, e.g. in a handler
        # (on Python 3.11 asyncio.wait_for alone can swallow one: CPython gh-86296).
        self._stopping.set()
        self._task.cancel()
        # wait() rather than awaiting the task: a cancellation of stop() itself must propagate.
        await asyncio.wait({self._task})
        self._task = None

    async def _run(self) -> None:
        group = self.subscriber.group
        backoff = _MIN_BACKOFF_SECONDS
        group_ready = False
        while not self._stopping.is_set():
            try:
                if not group_ready:
                    await self.bus.ensure_group(group)
                    group_ready = True
                deliveries = await self.bus.read(group, self.consumer, self.read_count.value, self.block_seconds)
                started = time.monotonic()
                await self._handle_batch(group, deliveries)
                # A read is acknowledged after its last delivery: handled in more than a
                # quarter of the redelivery timeout, a read twice as big could be redelivered.
                slow = time.monotonic() - started > self.bus.redelivery_seconds / 4
                self.read_count.update(len(deliveries), slow)
            except NotFound:
                # The bus lost the group (e.g. Redis restarted without persistence).
                log.warning("bus.group_missing", group=group, consumer=self.consumer)
                group_ready = False
                continue
            except Unavailable as exc:
                log.warning("bus.unavailable", group=group, consumer=self.consumer, error=exc.detail, retry_in=backoff)
            except Exception:
                # A subscription must outlive any failure of the bus, not only the expected ones.
                log.exception("bus.read_failed", group=group, consumer=self.consumer, retry_in=backoff)
            else:
                backoff = _MIN_BACKOFF_SECONDS
                continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)

    async def _handle_batch(self, group: str, deliveries: list[Delivery]) -> None:
        # The read's handled deliveries are acknowledged together, in one command (issue
        # #18), also when handling stops early; a handler interrupted stays pending.
        done: list[str] = []
        try:
            for delivery in deliveries:
                if self._stopping.is_set():
                    break
                if await self._handle(delivery):
                    done.append(delivery.message_id)
        finally:
            if done:
                await self.bus.ack_many(group, done)

    async def _handle(self, delivery: Delivery) -> bool:
        """Pass ``delivery`` to the handler if wanted; True when it is to be acknowledged."""
        event = delivery.event
        if self.subscriber.wants(event.type):
            try:
                # A consumer span, child of the event's trace context, when tracing is on.
                with self.tracing.consuming(event, f"{delivery.group} {event.type}", delivery.group):
                    await self.subscriber.handler(self.dcsim, event)
            except Exception:
                log.exception(
                    "subscriber.handler_failed",
                    group=delivery.group,
                    consumer=delivery.consumer,
                    message_id=delivery.message_id,
                    event_id=event.id,
                    event_type=event.type,
                    attempt=delivery.attempt,
                )
                return False
        return True
