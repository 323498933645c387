"""The outbox relay: publishes the events the store's outbox holds, in order, then marks them sent.

Changes write their events to the outbox in the same store transaction (see
``Store.transaction`` and ``DocumentSession.add_event``), so an event exists exactly
when its change was committed. The relay is the only writer to the bus:

* it is woken after every commit that added events (and polls slowly for the ones
  other processes added), publishes the oldest unsent events in outbox order and marks
  them sent;
* while the bus is away it retries with backoff (0.5 s doubling to 5 s); nothing is
  dropped, writes go on, and the events wait in the outbox;
* on a shared bus (Redis) processes on one store take a lease, so one of them relays at
  a time and events leave in order; a holder that dies (``kill -9``) loses the lease
  after ``LEASE_SECONDS`` and another process, or its restart, takes over;
* before each batch it makes sure every consumer group exists (idempotent; a Redis that
  restarted without persistence lost them, maybe between two passes without this relay
  seeing it fail), so the events reach every group;
* delivery is at least once: an event published just before a crash that kept it from
  being marked sent is published again (consumers dedupe by ``event.id`` if they must);
* sent entries and expired Idempotency-Key responses are pruned after their retention.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from dcsim.errors import Unavailable
from dcsim.model import utcnow
from dcsim.tracing import NO_TRACING, NoTracing

if TYPE_CHECKING:
    from dcsim.bus.base import EventBus
    from dcsim.settings import Settings
    from dcsim.store.base import Store

log = structlog.get_logger(__name__)

LEASE_NAME = "outbox-relay"
#: How long a relay holds the lease without renewing it (it renews on every pass).
LEASE_SECONDS = 10.0
#: The safety poll for events committed by other processes (this process wakes the relay).
POLL_SECONDS = 2.0
BATCH = 100
PRUNE_EVERY_SECONDS = 600.0
_MIN_BACKOFF_SECONDS = 0.5
_MAX_BACKOFF_SECONDS = 5.0


class OutboxRelay:
    """Publish the outbox of ``store`` on ``bus`` in a background task.

    Args:
        store: the store whose outbox to relay.
        bus: the bus to publish on.
        settings: retentions of sent entries and of Idempotency-Key responses.
        holder: this relay's name in the lease; ``<hostname>-<pid>-<random>`` by default.
        groups: the consumer groups to (re)create before publishing a batch.
        tracing: spans of the publishes (``dcsim.tracing``); none by default.
    """

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        settings: Settings,
        holder: str | None = None,
        groups: Callable[[], Iterable[str]] = tuple,
        tracing: NoTracing = NO_TRACING,
    ) -> None:
        self.store = store
        self.tracing = tracing
        self.bus = bus
        self.settings = settings
        self.groups = groups
        self.holder = holder or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle = asyncio.Event()
        self._next_prune = 0.0
        store.on_events_added(self._wake_from_any_thread)

    @property
    def running(self) -> bool:
        """True while the background task runs."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start relaying in the running event loop (pending entries first: nothing
        committed before a crash is lost)."""
        if self.running:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        self._wake.set()
        self._task = asyncio.create_task(self._run(), name="dcsim-outbox-relay")

    def wake(self) -> None:
        """Look at the outbox now (call from the event loop's thread)."""
        self._idle.clear()
        self._wake.set()

    def _wake_from_any_thread(self) -> None:
        # Commits happen in worker threads (asyncio.to_thread); the event lives in the loop.
        loop = self._loop
        if loop is None or loop.is_closed() or not self.running:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self.wake)

    async def stop(self) -> None:
        """Stop relaying and give the lease up; unsent entries stay for the next start."""
        if self._task is None:
            return
        self._stopping.set()
        self._task.cancel()
        await asyncio.wait({self._task})
        self._task = None
        if self.bus.shared:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.store.drop_lease, LEASE_NAME, self.holder)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until this relay found the outbox empty; TimeoutError after ``timeout``."""
        self.wake()
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    async def relay_once(self) -> int:
        """Publish up to ``BATCH`` waiting events in order; return how many were waiting.

        Raises :class:`Unavailable` when the bus is away (the batch waits, and is published
        again whole, so events of it that got through are published twice). Returns 0 without publishing when another
        process holds the lease.
        """
        if self.bus.shared and not await asyncio.to_thread(
            self.store.take_lease, LEASE_NAME, self.holder, LEASE_SECONDS
        ):
            return 0
        entries = await asyncio.to_thread(self.store.outbox_pending, BATCH)
        if entries:
            for group in self.groups():
                await self.bus.ensure_group(group)
        if entries:
            # One round trip for the batch (issue #18). If it fails, the whole batch stays
            # unsent and is published again: at least once, as after a crash.
            # Each event leaves with its publish span's trace context (when tracing is on).
            with self.tracing.publishing([entry.event for entry in entries]) as events:
                await self.bus.publish_many(events)
            await asyncio.to_thread(self.store.outbox_mark_sent, [entry.id for entry in entries])
        return len(entries)

    async def _run(self) -> None:
        backoff = _MIN_BACKOFF_SECONDS
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                waiting = await self.relay_once()
                await self._housekeeping()
            except Unavailable as exc:
                log.warning("outbox.relay_unavailable", error=exc.detail, retry_in=backoff)
            except Exception:
                log.exception("outbox.relay_failed", retry_in=backoff)
            else:
                backoff = _MIN_BACKOFF_SECONDS
                if waiting >= BATCH:
                    continue
                if waiting == 0 and not self._wake.is_set():
                    self._idle.set()
                await self._sleep(POLL_SECONDS)
                continue
            await self._sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)

    async def _sleep(self, seconds: float) -> None:
        """Sleep until woken or ``seconds`` passed."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY_SECONDS
        moment = utcnow()
        sent = await asyncio.to_thread(
            self.store.outbox_prune, moment - timedelta(seconds=self.settings.outbox_retention_seconds)
        )
        keys = await asyncio.to_thread(
            self.store.idempotency_prune, moment - timedelta(seconds=self.settings.idempotency_retention_seconds)
        )
        if sent or keys:
            log.info("outbox.pruned", sent_events=sent, idempotency_keys=keys)
