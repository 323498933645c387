"""The event channel (``eventSubscribe``): managed-object changes streamed as they happen.

UCS Manager keeps the ``eventSubscribe`` response open and writes one record per batch
of changes: the byte length on a line, then a ``methodVessel`` document holding a
``configMoChangeEvent`` per changed object (``status`` created, modified or deleted,
with the changed properties). ucsmsdk's ``UcsEventHandle`` and ``wait_for_event`` read
this channel.

dc-sim has no per-object change log, so the changed objects are found by diffing trees:
but once per batch of bus events for all channels, not once per channel. One
:class:`EventChannels` per manager listens to the bus while any channel is open,
rebuilds the tree when events arrive, diffs it with the tree it saw last, serialises the
changed objects once and hands them to every channel; a channel only numbers them and
writes them out. So changes made through any API (``/sim``, REST, another XML session)
reach every subscriber, and an open channel costs a write next to nothing. Each account
may hold a limited number of channels (``event_channels`` in ``[plugins.ucs]``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import structlog

from dcsim_ucs.errors import UcsError
from dcsim_ucs.mo import Tree
from dcsim_ucs.sessions import Session

if TYPE_CHECKING:
    from dcsim_ucs.manager import UcsManager

log = structlog.get_logger(__name__)

#: Seconds between checks that a subscriber's session is still alive.
CHECK_SECONDS = 5.0
#: Seconds the differ waits after a bus event for the rest of its burst (one write
#: publishes several events; one rebuild serves them all).
SETTLE_SECONDS = 0.2
#: Properties that change on every rebuild and mean nothing to a watcher.
_VOLATILE = {"currentTime", "systemUpTime"}

Snapshot = dict[str, tuple[str, dict[str, str]]]
#: The changed objects of one batch, each serialised once for every channel.
Batch = tuple[bytes, ...]


def snapshot(tree: Tree) -> Snapshot:
    """Every object's class and properties, by DN."""
    return {mo.dn: (mo.class_id, dict(mo.attrs)) for mo in tree.objects.values()}


def changes(before: Snapshot, after: Snapshot) -> list[ET.Element]:
    """The objects created, modified (changed properties only) and deleted, as elements."""
    out: list[ET.Element] = []
    for dn, (class_id, attrs) in after.items():
        old = before.get(dn)
        if old is None:
            out.append(ET.Element(class_id, {"dn": dn, **attrs, "status": "created"}))
            continue
        if old[1] == attrs:
            continue
        changed = {k: v for k, v in attrs.items() if old[1].get(k) != v and k not in _VOLATILE}
        if changed:
            out.append(ET.Element(class_id, {"dn": dn, **changed, "status": "modified"}))
    for dn, (class_id, _) in before.items():
        if dn not in after:
            out.append(ET.Element(class_id, {"dn": dn, "status": "deleted"}))
    return out


def record(batch: Batch, event_ids: itertools.count[int]) -> bytes:
    """One channel record: the length line, then the ``methodVessel`` document."""
    events = b"".join(
        b'<configMoChangeEvent cookie="" inEid="%d"><inConfig>%s</inConfig></configMoChangeEvent>'
        % (next(event_ids), element)
        for element in batch
    )
    body = b"<methodVessel><inStimuli>" + events + b"</inStimuli></methodVessel>"
    return f"{len(body)}\n".encode() + body


def channel_limit(user: str, limit: int) -> UcsError:
    """The account already holds as many event channels as it may."""
    return UcsError(
        "ERR-event-channel-limit",
        f"user {user} already has {limit} open event channels (the limit); close one first",
        "service-unavailable",
    )


class EventChannels:
    """The open event channels of one manager, fed by one bus listener and one differ."""

    def __init__(self, manager: UcsManager, limit: int) -> None:
        self.manager = manager
        self.limit = limit
        self._channels: dict[asyncio.Queue[Batch], str] = {}
        self._previous: Snapshot = {}
        self._woken = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._starting = asyncio.Lock()

    def count(self, user: str | None = None) -> int:
        """How many channels are open (of ``user``, or in all)."""
        return sum(1 for owner in self._channels.values() if user is None or owner == user)

    async def open(self, session: Session) -> AsyncIterator[bytes]:
        """A subscriber's channel; UCS's error when its account holds the limit already.

        The tree changes are diffed from is taken before this returns (before the response
        is sent), so a change made right after ``eventSubscribe`` answers is not missed.
        """
        if self.count(session.user) >= self.limit:
            log.info("ucs.event_channel_refused", user=session.user, limit=self.limit)
            raise channel_limit(session.user, self.limit)
        queue: asyncio.Queue[Batch] = asyncio.Queue()
        self._channels[queue] = session.user  # counted at once: concurrent opens see it
        try:
            async with self._starting:
                if not self._tasks:
                    await self._start()
        except BaseException:
            del self._channels[queue]
            raise
        log.info("ucs.event_channel_opened", user=session.user, open=self.count(session.user))
        return self._records(session, queue)

    async def _start(self) -> None:
        self._woken.clear()

        async def listen() -> None:
            async for _ in self.manager.dcsim.bus.tail():
                self._woken.set()

        # The listener starts tailing while the first tree is built, so nothing falls between.
        self._tasks = [asyncio.create_task(listen())]
        self._previous = snapshot(await self.manager.tree())
        self._tasks.append(asyncio.create_task(self._diff()))

    async def _stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._previous = {}

    async def _diff(self) -> None:
        """Rebuild and diff once per burst of bus events; hand the changes to every channel."""
        while True:
            await self._woken.wait()
            await asyncio.sleep(SETTLE_SECONDS)
            self._woken.clear()
            try:
                current = snapshot(await self.manager.tree())
            except Exception as exc:  # a domain gone or the store away: the next event retries
                log.warning("ucs.event_channel_diff_failed", error=f"{type(exc).__name__}: {exc}"[:300])
                continue
            found = changes(self._previous, current)
            self._previous = current
            if not found:
                continue
            batch: Batch = tuple(ET.tostring(element, encoding="utf-8", xml_declaration=False) for element in found)
            for queue in self._channels:
                queue.put_nowait(batch)

    async def _records(self, session: Session, queue: asyncio.Queue[Batch]) -> AsyncIterator[bytes]:
        """Records of changes until the session ends (logout or expiry) or the client goes."""
        event_ids = itertools.count(1)
        checked = time.monotonic()
        try:
            while True:
                batch: Batch | None = None
                with contextlib.suppress(TimeoutError):
                    batch = await asyncio.wait_for(queue.get(), CHECK_SECONDS)
                # The session is checked every CHECK_SECONDS, not per record: a store read
                # per channel per event is what made open channels slow writes down.
                if batch is None or time.monotonic() - checked >= CHECK_SECONDS:
                    try:
                        await self.manager.sessions.check(session.cookie)
                    except UcsError:
                        return  # logged out or expired: the channel ends with the session
                    checked = time.monotonic()
                if batch:
                    yield record(batch, event_ids)
        finally:
            self._channels.pop(queue, None)
            if not self._channels:
                async with self._starting:
                    if not self._channels:
                        await self._stop()
            log.info("ucs.event_channel_closed", user=session.user)
