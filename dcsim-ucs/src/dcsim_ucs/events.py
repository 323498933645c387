"""The event channel (``eventSubscribe``): managed-object changes streamed as they happen.

UCS Manager keeps the ``eventSubscribe`` response open and writes one record per batch
of changes: the byte length on a line, then a ``methodVessel`` document holding a
``configMoChangeEvent`` per changed object (``status`` created, modified or deleted,
with the changed properties). ucsmsdk's ``UcsEventHandle`` and ``wait_for_event`` read
this channel.

dc-sim has no per-object change log: every bus event wakes the channel, which rebuilds
the tree and sends what differs from the tree it last saw. So changes made through any
API (``/sim``, REST, another XML session) reach every subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import structlog

from dcsim_ucs.errors import UcsError
from dcsim_ucs.manager import UcsManager
from dcsim_ucs.mo import Tree
from dcsim_ucs.sessions import Session

log = structlog.get_logger(__name__)

#: Seconds between checks that the subscriber's session is still alive, with no events.
CHECK_SECONDS = 5.0
#: Properties that change on every rebuild and mean nothing to a watcher.
_VOLATILE = {"currentTime", "systemUpTime"}

Snapshot = dict[str, tuple[str, dict[str, str]]]


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
        changed = {k: v for k, v in attrs.items() if old[1].get(k) != v and k not in _VOLATILE}
        if changed:
            out.append(ET.Element(class_id, {"dn": dn, **changed, "status": "modified"}))
    for dn, (class_id, _) in before.items():
        if dn not in after:
            out.append(ET.Element(class_id, {"dn": dn, "status": "deleted"}))
    return out


def record(elements: list[ET.Element], event_ids: itertools.count[int]) -> bytes:
    """One channel record: the length line, then the ``methodVessel`` document."""
    vessel = ET.Element("methodVessel")
    stimuli = ET.SubElement(vessel, "inStimuli")
    for element in elements:
        event = ET.SubElement(stimuli, "configMoChangeEvent", {"cookie": "", "inEid": str(next(event_ids))})
        ET.SubElement(event, "inConfig").append(element)
    body: bytes = ET.tostring(vessel, encoding="utf-8", xml_declaration=False)
    return f"{len(body)}\n".encode() + body


async def open_channel(manager: UcsManager, session: Session) -> AsyncIterator[bytes]:
    """A subscriber's channel: the tree it starts from is taken now, before the response
    is sent, so a change made right after ``eventSubscribe`` answers is not missed."""
    woken = asyncio.Event()

    async def listen() -> None:
        async for _ in manager.dcsim.bus.tail():
            woken.set()

    listener = asyncio.create_task(listen())
    previous = snapshot(await manager.tree())
    log.info("ucs.event_channel_opened", user=session.user)
    return _records(manager, session, previous, woken, listener)


async def _records(
    manager: UcsManager, session: Session, previous: Snapshot, woken: asyncio.Event, listener: asyncio.Task[None]
) -> AsyncIterator[bytes]:
    """Records of changes until the session ends (logout or expiry) or the client goes."""
    event_ids = itertools.count(1)
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), CHECK_SECONDS)
            woken.clear()
            try:
                await manager.sessions.check(session.cookie)
            except UcsError:
                return  # logged out or expired: the channel ends with the session
            current = snapshot(await manager.tree())
            found = changes(previous, current)
            previous = current
            if found:
                yield record(found, event_ids)
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        log.info("ucs.event_channel_closed", user=session.user)
