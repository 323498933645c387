"""Watching incident SLAs: breaches found, recorded on the incident and published.

The timer arithmetic is :mod:`dcsim.itsm.sla`; this module applies it to the open
incidents, in the background every ``interval`` seconds and after each workflow action.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime
from typing import TYPE_CHECKING

import attrs
import structlog

from dcsim.convert import to_json
from dcsim.itsm import sla
from dcsim.itsm.events import SOURCE
from dcsim.itsm.model import HistoryEntry, Incident
from dcsim.itsm.workflow import INCIDENT_TRANSITIONS, is_final

if TYPE_CHECKING:
    from dcsim.itsm.service import Itsm

log = structlog.get_logger(__name__)

#: Seconds between background SLA checks.
SLA_CHECK_SECONDS = 30.0


@attrs.frozen(kw_only=True)
class SlaBreach:
    """One SLA breach found and published."""

    incident: str
    kind: str
    priority: str
    target_seconds: int
    elapsed_seconds: int


class SlaMonitor:
    """``itsm.slas``: finds exceeded SLA targets and records each breach once."""

    def __init__(self, itsm: Itsm) -> None:
        self.itsm = itsm
        #: Seconds between background checks; tests shorten it before the start.
        self.interval = SLA_CHECK_SECONDS
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the background check."""
        self._task = asyncio.create_task(self._watch())

    async def close(self) -> None:
        """Stop the background check."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def check(self) -> list[SlaBreach]:
        """Record and publish every SLA target newly exceeded by an open incident.

        Runs every :attr:`interval` seconds in the background; tests call it directly.
        Each kind of breach is published once per incident.
        """
        found: list[SlaBreach] = []
        async with self.itsm.lock:
            now = self.itsm.clock()
            for incident in self.itsm.incidents.book.all():
                if is_final(INCIDENT_TRANSITIONS, incident.state):
                    continue
                kinds = sla.overdue(incident.sla, now, incident.created_at)
                if kinds:
                    found += (await self.record(incident, kinds, now))[0]
        return found

    async def record(self, current: Incident, kinds: list[str], now: datetime) -> tuple[list[SlaBreach], Incident]:
        """Record breaches of ``kinds`` on the incident and publish them (the caller
        holds the ITSM lock); the breaches and the incident as saved."""
        incident = copy.deepcopy(current)
        incident.sla.breached.extend(kinds)
        incident.history.extend(HistoryEntry(at=now, actor="sla", action="sla_breached", comment=k) for k in kinds)
        breaches = [
            SlaBreach(
                incident=incident.number,
                kind=kind,
                priority=incident.sla.priority,
                target_seconds=sla.target_seconds(incident.sla, kind),
                elapsed_seconds=round(sla.elapsed(incident.sla, kind, now, incident.created_at)),
            )
            for kind in kinds
        ]
        events = []
        for breach in breaches:
            data = to_json(breach)
            data["incident"] = to_json(incident)
            log.info("itsm.sla_breached", incident=incident.number, kind=breach.kind)
            subject = f"incident/{incident.number}"
            events.append(self.itsm.dcsim.event("incident.sla_breached", data, source=SOURCE, subject=subject))
        # The breaches' events are committed with the record that now lists them.
        await self.itsm.incidents.book.save(incident, events)
        return breaches, incident

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:
                log.exception("itsm.sla_check_failed")
