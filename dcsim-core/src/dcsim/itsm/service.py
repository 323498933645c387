"""The ITSM service (``dcsim.services.get(Itsm)``): incidents, problems and changes.

:class:`Itsm` holds what the record kinds share (the store-backed books, one writers'
lock, the injected clock so that tests can drive SLAs, the CMDB link, the rules) and
one record service per kind: ``itsm.incidents``, ``itsm.problems``, ``itsm.changes``
(:mod:`dcsim.itsm.record_service`), plus ``itsm.slas`` (:mod:`dcsim.itsm.sla_monitor`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from dcsim.errors import NotFound
from dcsim.itsm import sla
from dcsim.itsm.changes import ChangeService
from dcsim.itsm.events import EVENT_TYPES
from dcsim.itsm.impact import CmdbLink
from dcsim.itsm.incidents import IncidentService
from dcsim.itsm.model import Change, Incident, Problem
from dcsim.itsm.problems import ProblemService
from dcsim.itsm.record_service import Kind, RecordService
from dcsim.itsm.records import RecordBook
from dcsim.itsm.rules import RuleRegistry
from dcsim.itsm.sla_monitor import SlaMonitor
from dcsim.model import utcnow

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.cmdb.model import Ci
    from dcsim.model import Event
    from dcsim.settings import Settings

__all__ = ["EVENT_TYPES", "Itsm"]

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


class Itsm:
    """``dcsim.services.get(Itsm)``: the ITSM module of an instance."""

    def __init__(self, settings: Settings, clock: Clock = utcnow) -> None:
        self.settings = settings
        #: Where every timestamp comes from; tests replace it to drive SLAs.
        self.clock = clock
        #: Serialises writers of every kind, so events go out in the order of the changes.
        self.lock = asyncio.Lock()
        self.rules = RuleRegistry(settings.itsm_disabled_rules)
        self.cmdb_link = CmdbLink(self)
        self.incidents = IncidentService(self, RecordBook(Incident, "itsm.incident", "INC"))
        self.problems = ProblemService(self, RecordBook(Problem, "itsm.problem", "PRB"))
        self.changes = ChangeService(self, RecordBook(Change, "itsm.change", "CHG"))
        self.slas = SlaMonitor(self)
        self._dcsim: DcSim | None = None

    async def start(self, dcsim: DcSim) -> None:
        """Load the records, collect the rules and start watching SLAs (after the CMDB)."""
        self._dcsim = dcsim
        for service in self._services().values():
            await service.book.load(dcsim.store, dcsim.changes)
        self.rules = RuleRegistry(self.settings.itsm_disabled_rules)
        dcsim.plugins.register_each("dcsim_itsm_register_rules", registry=self.rules)
        unknown = sorted(self.rules.disabled - set(self.rules.names()))
        if unknown:
            log.warning("itsm.unknown_disabled_rules", rules=unknown, known=self.rules.names())
        if self.cmdb_link.cmdb is None:
            log.warning("itsm.no_cmdb", detail="affected CIs are kept unchecked and their impact is not analysed")
        self.slas.start()

    async def close(self) -> None:
        """Stop watching SLAs and other processes' writes."""
        await self.slas.close()
        for service in self._services().values():
            service.book.close()

    @property
    def dcsim(self) -> DcSim:
        """The instance the service runs in."""
        if self._dcsim is None:
            raise RuntimeError("the ITSM service is not started")
        return self._dcsim

    def records(self, kind: Kind) -> RecordService[Any]:
        """The record service of ``kind``."""
        return self._services()[kind]

    def priority(self, impact: int, urgency: int) -> str:
        """The priority of an impact and urgency (``dcsim_itsm_priority``)."""
        return self.dcsim.call.itsm_priority(impact=impact, urgency=urgency)

    def sla_targets(self, priority: str) -> sla.SlaTarget:
        """The SLA targets of ``priority`` (``dcsim_itsm_sla_targets``)."""
        return self.dcsim.call.itsm_sla_targets(priority=priority)

    async def find_ci(self, ref: str) -> Ci | None:
        """The CI ``ref`` names (id, simulated object id or exact name); None without a CMDB."""
        return await self.cmdb_link.find_ci(ref)

    # Rules ------------------------------------------------------------------------------

    async def on_event(self, event: Event) -> None:
        """Run the enabled event rules that want ``event`` (from the ``itsm-rules`` group)."""
        for rule in self.rules.event_rules(event.type):
            await rule.handler(self, event)

    async def run_webhook(self, receiver: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run the enabled webhook rules of ``receiver`` on ``payload``; report each rule's result."""
        rules = self.rules.webhook_rules(receiver)
        if not rules:
            raise NotFound(f"no ITSM rule receives {receiver!r} webhooks")
        results = {rule.name: await rule.handler(self, payload) for rule in rules if self.rules.enabled(rule.name)}
        disabled = [rule.name for rule in rules if not self.rules.enabled(rule.name)]
        return {"receiver": receiver, "results": results, "disabled": disabled}

    def _services(self) -> dict[str, RecordService[Any]]:
        return {"incident": self.incidents, "problem": self.problems, "change": self.changes}
