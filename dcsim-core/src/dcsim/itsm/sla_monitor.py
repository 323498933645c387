"""Watching incident SLAs: breaches found, recorded on the incident and published.

The timer arithmetic is :mod:`dcsim.itsm.sla`; this module applies it to the open
incidents, in the background every ``interval`` seconds and after each workflow action.

Several processes on one store fire each breach once: the background check runs in the
process that holds the store lease ``itsm-sla-monitor`` (renewed by each check), after
reading the change feed so it knows the incidents other processes made; and a breach is
written with the incident's version, so a process that raced another to the same breach
gets a Conflict and leaves it to the one that won.
"""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime
from typing import TYPE_CHECKING

import attrs
import structlog

from dcsim.convert import to_json
from dcsim.errors import Conflict
from dcsim.itsm import sla
from dcsim.itsm.events import SOURCE
from dcsim.itsm.model import HistoryEntry, Incident
from dcsim.itsm.workflow import INCIDENT_TRANSITIONS, is_final

if TYPE_CHECKING:
    from dcsim.itsm.service import Itsm

log = structlog.get_logger(__name__)

#: Seconds between background SLA checks.
SLA_CHECK_SECONDS = 30.0
#: The store lease of the process that runs the background check.
LEASE = "itsm-sla-monitor"


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
        #: Seconds between background checks: ``sla_check_seconds`` in ``[plugins.itsm]``;
        #: tests shorten it before the start.
        self.interval = float(itsm.settings.plugin("itsm").get("sla_check_seconds", SLA_CHECK_SECONDS))
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
        Each kind of breach is published once per incident, across processes: on a
        shared store only the holder of the lease :data:`LEASE` checks (others find
        nothing), and an incident another process changed meanwhile is skipped.
        """
        dcsim = self.itsm.dcsim
        if dcsim.changes.active:
            seconds = max(3 * self.interval, 10.0)
            if not await asyncio.to_thread(dcsim.store.take_lease, LEASE, dcsim.store.origin, seconds):
                return []
            await dcsim.changes.catch_up()
        found: list[SlaBreach] = []
        async with self.itsm.lock:
            now = self.itsm.clock()
            for incident in self.itsm.incidents.book.all():
                if is_final(INCIDENT_TRANSITIONS, incident.state):
                    continue
                kinds = sla.overdue(incident.sla, now, incident.created_at)
                if not kinds:
                    continue
                try:
                    found += (await self.record(incident, kinds, now))[0]
                except Conflict:
                    # Changed elsewhere meanwhile (perhaps that breach): the book now holds
                    # the newer record, and the next check looks at it again.
                    log.info("itsm.sla_check_skipped", incident=incident.number, reason="changed elsewhere")
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
