"""The ITSM service (``dcsim.services["itsm"]``): incidents, problems and changes.

Every change to a record goes one way: check the workflow table, change a copy, write
it through (with its history entry), publish the event, then swap it into the index.
One lock serialises writers, so a record's events are published in the order its
changes were made. The clock is injected so that tests can drive SLAs.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs
import structlog

from dcsim.cmdb.backend import CiQuery
from dcsim.convert import from_json, to_json
from dcsim.errors import Conflict, InvalidInput, NotFound
from dcsim.itsm import sla
from dcsim.itsm.model import (
    Approval,
    Change,
    ChangePatch,
    ChangeRequest,
    ChangeState,
    ChangeType,
    HistoryEntry,
    ImpactAnalysis,
    ImpactedCi,
    Incident,
    IncidentPatch,
    IncidentRequest,
    IncidentState,
    Note,
    Problem,
    ProblemPatch,
    ProblemRequest,
    ProblemState,
    Record,
    as_utc,
)
from dcsim.itsm.records import RecordBook
from dcsim.itsm.rules import RuleRegistry
from dcsim.itsm.workflow import (
    CHANGE_ACTION_BODIES,
    CHANGE_EVENTS,
    CHANGE_TRANSITIONS,
    INCIDENT_ACTION_BODIES,
    INCIDENT_TRANSITIONS,
    PROBLEM_ACTION_BODIES,
    PROBLEM_TRANSITIONS,
    is_final,
    next_state,
)
from dcsim.model import utcnow

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.cmdb.model import Ci
    from dcsim.cmdb.service import Cmdb
    from dcsim.model import Event
    from dcsim.settings import Settings

log = structlog.get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R", bound=Record)
Kind = Literal["incident", "problem", "change"]
Clock = Callable[[], datetime]

SOURCE = "/itsm"
#: How deep the CMDB impact analysis attached to records goes.
IMPACT_DEPTH = 3
#: Seconds between background SLA checks.
SLA_CHECK_SECONDS = 30.0
#: Changes in these states authorise work inside their window.
AUTHORISING = (ChangeState.APPROVED, ChangeState.SCHEDULED, ChangeState.IN_PROGRESS)
#: Derived or logged elsewhere in the record, so left out of history diffs.
_UNTRACKED = frozenset({"history", "notes", "updated_at", "sla", "impact_analysis", "approvals"})

_RECORD = "the record after the change"
_CHANGED = {
    "action": "updated, note, or the workflow action",
    "changes": "field -> [before, after]",
    "comment": "the reason or comment given, if any",
    "actor": "who",
}
EVENT_TYPES: dict[str, tuple[str, dict[str, str]]] = {
    "incident.created": ("an incident was opened", {"incident": "the incident", "actor": "who"}),
    "incident.updated": ("an incident changed or moved in its workflow", {"incident": _RECORD, **_CHANGED}),
    "incident.sla_breached": (
        "an incident exceeded its response or resolution target (once per kind)",
        {
            "incident": "the incident",
            "kind": "response | resolution",
            "priority": "the priority whose target applies",
            "target_seconds": "the target",
            "elapsed_seconds": "time counted against it (resolution excludes time on hold)",
        },
    ),
    "problem.created": ("a problem was opened", {"problem": "the problem", "actor": "who"}),
    "problem.updated": ("a problem changed or moved in its workflow", {"problem": _RECORD, **_CHANGED}),
    "change.created": (
        "a change was requested (standard changes arrive approved)",
        {"change": "the change", "actor": "who"},
    ),
    "change.updated": ("a change's fields or notes changed", {"change": _RECORD, **_CHANGED}),
    "change.submitted": ("a change went for approval", {"change": _RECORD, **_CHANGED}),
    "change.approved": ("a change was approved", {"change": _RECORD, **_CHANGED}),
    "change.rejected": ("a change was rejected back to draft", {"change": _RECORD, **_CHANGED}),
    "change.scheduled": ("a change was scheduled or rescheduled", {"change": _RECORD, **_CHANGED}),
    "change.started": ("a change's implementation began", {"change": _RECORD, **_CHANGED}),
    "change.completed": ("a change was implemented", {"change": _RECORD, **_CHANGED}),
    "change.failed": ("a change's implementation failed", {"change": _RECORD, **_CHANGED}),
    "change.cancelled": ("a change was cancelled", {"change": _RECORD, **_CHANGED}),
}
#: Declared by ITSM when no other plugin declares it: the shape the drift rule reads.
DRIFT_DETECTED = (
    "a monitored field differs from its desired state",
    {
        "ci": "id (or name) of the CI",
        "field": "the monitored field",
        "desired": "value in the CMDB",
        "actual": "value observed",
        "severity": "low | medium | high | critical",
        "policy": "{name, auto_change_request: bool}: the drift policy that matched",
    },
)


@attrs.frozen(kw_only=True)
class SlaBreach:
    """One SLA breach found and published."""

    incident: str
    kind: str
    priority: str
    target_seconds: int
    elapsed_seconds: int


def parse(data: Any, cls: type[T]) -> T:
    """Structure a JSON body into ``cls``, refusing members ``cls`` does not have."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    known = sorted(attrs.fields_dict(cls))  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise InvalidInput(f"unknown fields {unknown}; known: {', '.join(known) or 'none'}", unknown=unknown)
    return from_json(data, cls)


class Itsm:
    """``dcsim.services["itsm"]``: the ITSM module of an instance."""

    def __init__(self, settings: Settings, clock: Clock = utcnow) -> None:
        self.settings = settings
        #: Where every timestamp comes from; tests replace it to drive SLAs.
        self.clock = clock
        self.sla_check_interval = SLA_CHECK_SECONDS
        self.rules = RuleRegistry(settings.itsm_disabled_rules)
        self.incidents: RecordBook[Incident] = RecordBook(Incident, "itsm.incident", "INC")
        self.problems: RecordBook[Problem] = RecordBook(Problem, "itsm.problem", "PRB")
        self.changes: RecordBook[Change] = RecordBook(Change, "itsm.change", "CHG")
        self._lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._dcsim: DcSim | None = None

    async def start(self, dcsim: DcSim) -> None:
        """Load the records, collect the rules and start watching SLAs (after the CMDB)."""
        self._dcsim = dcsim
        for book in (self.incidents, self.problems, self.changes):
            await book.load(dcsim.store)
        self.rules = RuleRegistry(self.settings.itsm_disabled_rules)
        dcsim.hook.dcsim_itsm_register_rules(registry=self.rules)
        unknown = sorted(self.rules.disabled - set(self.rules.names()))
        if unknown:
            log.warning("itsm.unknown_disabled_rules", rules=unknown, known=self.rules.names())
        self._watcher = asyncio.create_task(self._watch_slas())

    async def close(self) -> None:
        """Stop watching SLAs."""
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
            self._watcher = None

    @property
    def dcsim(self) -> DcSim:
        """The instance the service runs in."""
        if self._dcsim is None:
            raise RuntimeError("the ITSM service is not started")
        return self._dcsim

    @property
    def cmdb(self) -> Cmdb:
        """The instance's CMDB service."""
        return self.dcsim.services["cmdb"]  # type: ignore[no-any-return]

    # Incidents --------------------------------------------------------------------------

    def list_incidents(
        self,
        *,
        states: list[IncidentState] | None = None,
        priority: str | None = None,
        assignee: str | None = None,
        ci: str | None = None,
        q: str | None = None,
    ) -> list[Incident]:
        """Incidents, newest first, matching every filter given (``ci``: an affected CI id)."""
        return [
            incident
            for incident in self.incidents.all()
            if (not states or incident.state in states)
            and (priority is None or incident.priority == priority)
            and (assignee is None or incident.assignee == assignee)
            and _matches(incident, ci, q)
        ]

    def find_open_incident(self, correlation_id: str) -> Incident | None:
        """The newest incident with ``correlation_id`` that is not closed or cancelled."""
        return next(
            (
                incident
                for incident in self.incidents.all()
                if incident.correlation_id == correlation_id and not is_final(INCIDENT_TRANSITIONS, incident.state)
            ),
            None,
        )

    async def create_incident(
        self, request: IncidentRequest, actor: str, *, source_data: dict[str, Any] | None = None
    ) -> Incident:
        """Open an incident; its priority is impact x urgency (the hook) unless given."""
        cis = await self._check_cis(request.affected_cis)
        analysis = await self._analyse(cis)
        priority = request.priority or self._priority(request.impact, request.urgency)
        async with self._lock:
            now = self.clock()
            incident = Incident(
                title=request.title,
                description=request.description,
                impact=request.impact,
                urgency=request.urgency,
                priority=priority,
                priority_overridden=request.priority is not None,
                assignee=request.assignee or None,
                assignment_group=request.assignment_group or None,
                affected_cis=cis,
                impact_analysis=analysis,
                correlation_id=request.correlation_id,
                source_data=source_data or {},
                created_by=actor,
                created_at=now,
                updated_at=now,
                history=[HistoryEntry(at=now, actor=actor, action="created")],
                sla=sla.new_sla(priority, self._targets(priority), now),
            )
            await self.incidents.add(incident)
            await self._publish("incident.created", "incident", incident, {"actor": actor})
            return incident

    async def update_incident(self, number: str, patch: IncidentPatch, actor: str) -> Incident:
        """Change an incident's fields; a new impact or urgency re-derives the priority
        unless it was set by hand, and a new priority re-targets the SLA."""
        cis = await self._check_cis(patch.affected_cis) if patch.affected_cis is not None else None
        analysis = await self._analyse(cis) if cis is not None else None
        async with self._lock:
            current = self.incidents.get(number)
            _refuse_final(INCIDENT_TRANSITIONS, current.number, current.state)
            incident = copy.deepcopy(current)
            _assign_fields(incident, patch, ("title", "description", "impact", "urgency"))
            _assign_people(incident, patch.assignee, "assignee")
            _assign_people(incident, patch.assignment_group, "assignment_group")
            if cis is not None:
                incident.affected_cis, incident.impact_analysis = cis, analysis
            if patch.priority is not None:
                incident.priority, incident.priority_overridden = patch.priority, True
            elif not incident.priority_overridden:
                incident.priority = self._priority(incident.impact, incident.urgency)
            if incident.priority != current.priority:
                sla.retarget(incident.sla, incident.priority, self._targets(incident.priority), incident.created_at)
            return await self._commit(self.incidents, "incident", current, incident, actor, "updated")

    async def incident_action(self, number: str, action: str, body: dict[str, Any] | None, actor: str) -> Incident:
        """Move an incident through its workflow (``INCIDENT_TRANSITIONS``).

        ``body`` is the action's JSON body (``INCIDENT_ACTION_BODIES``). An SLA target
        exceeded by the time the timer stops or pauses is recorded and published.
        """
        async with self._lock:
            current = self.incidents.get(number)
            to = next_state(INCIDENT_TRANSITIONS, number, current.state, action)
            request = parse(body, INCIDENT_ACTION_BODIES[action])
            now = self.clock()
            incident = copy.deepcopy(current)
            comment = getattr(request, "reason", None)
            if action == "start" and request.assignee:
                incident.assignee = request.assignee
            elif action == "hold":
                incident.on_hold_reason = request.reason
            elif action == "resolve":
                incident.resolution_notes = request.resolution_notes
                incident.root_cause = request.root_cause or incident.root_cause
                incident.resolved_at = now
            elif action == "close":
                incident.closed_at = now
            elif action == "reopen":
                incident.resolved_at = None
            if to is not IncidentState.ON_HOLD:
                incident.on_hold_reason = None
            incident.state = to
            sla.on_transition(incident.sla, current.state, to, now, incident.created_at)
            incident = await self._commit(self.incidents, "incident", current, incident, actor, action, comment, now)
            kinds = sla.overdue(incident.sla, now, incident.created_at)
            if kinds:
                incident = (await self._breached(incident, kinds, now))[1]
            return incident

    # SLAs -------------------------------------------------------------------------------

    async def check_slas(self) -> list[SlaBreach]:
        """Record and publish every SLA target newly exceeded by an open incident.

        Runs every ``sla_check_interval`` seconds in the background; tests call it
        directly. Each kind of breach is published once per incident.
        """
        found: list[SlaBreach] = []
        async with self._lock:
            now = self.clock()
            for incident in self.incidents.all():
                if is_final(INCIDENT_TRANSITIONS, incident.state):
                    continue
                kinds = sla.overdue(incident.sla, now, incident.created_at)
                if kinds:
                    found += (await self._breached(incident, kinds, now))[0]
        return found

    async def _breached(self, current: Incident, kinds: list[str], now: datetime) -> tuple[list[SlaBreach], Incident]:
        incident = copy.deepcopy(current)
        incident.sla.breached.extend(kinds)
        incident.history.extend(HistoryEntry(at=now, actor="sla", action="sla_breached", comment=k) for k in kinds)
        await self.incidents.save(incident)
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
        for breach in breaches:
            data = to_json(breach)
            data["incident"] = to_json(incident)
            log.info("itsm.sla_breached", incident=incident.number, kind=breach.kind)
            await self.dcsim.publish(
                "incident.sla_breached", data, source=SOURCE, subject=f"incident/{incident.number}"
            )
        return breaches, incident

    async def _watch_slas(self) -> None:
        while True:
            await asyncio.sleep(self.sla_check_interval)
            try:
                await self.check_slas()
            except Exception:
                log.exception("itsm.sla_check_failed")

    # Problems ---------------------------------------------------------------------------

    def list_problems(
        self,
        *,
        states: list[ProblemState] | None = None,
        incident: str | None = None,
        ci: str | None = None,
        q: str | None = None,
    ) -> list[Problem]:
        """Problems, newest first, matching every filter given (``incident``: a linked one)."""
        return [
            problem
            for problem in self.problems.all()
            if (not states or problem.state in states)
            and (incident is None or incident in problem.incidents)
            and _matches(problem, ci, q)
        ]

    async def create_problem(self, request: ProblemRequest, actor: str) -> Problem:
        """Open a problem, linked to existing incidents."""
        cis = await self._check_cis(request.affected_cis)
        analysis = await self._analyse(cis)
        async with self._lock:
            now = self.clock()
            problem = Problem(
                title=request.title,
                description=request.description,
                assignee=request.assignee or None,
                affected_cis=cis,
                impact_analysis=analysis,
                incidents=self._check_incidents(request.incidents),
                created_by=actor,
                created_at=now,
                updated_at=now,
                history=[HistoryEntry(at=now, actor=actor, action="created")],
            )
            await self.problems.add(problem)
            await self._publish("problem.created", "problem", problem, {"actor": actor})
            return problem

    async def update_problem(self, number: str, patch: ProblemPatch, actor: str) -> Problem:
        """Change a problem's fields; ``incidents`` replaces the linked incidents."""
        cis = await self._check_cis(patch.affected_cis) if patch.affected_cis is not None else None
        analysis = await self._analyse(cis) if cis is not None else None
        async with self._lock:
            current = self.problems.get(number)
            problem = copy.deepcopy(current)
            _assign_fields(problem, patch, ("title", "description", "workaround", "root_cause"))
            _assign_people(problem, patch.assignee, "assignee")
            if cis is not None:
                problem.affected_cis, problem.impact_analysis = cis, analysis
            if patch.incidents is not None:
                problem.incidents = self._check_incidents(patch.incidents)
            return await self._commit(self.problems, "problem", current, problem, actor, "updated")

    async def problem_action(self, number: str, action: str, body: dict[str, Any] | None, actor: str) -> Problem:
        """Move a problem through its workflow (``PROBLEM_TRANSITIONS``)."""
        async with self._lock:
            current = self.problems.get(number)
            to = next_state(PROBLEM_TRANSITIONS, number, current.state, action)
            request = parse(body, PROBLEM_ACTION_BODIES[action])
            now = self.clock()
            problem = copy.deepcopy(current)
            comment = getattr(request, "reason", None)
            if action == "known_error":
                problem.workaround = request.workaround
                problem.root_cause = request.root_cause or problem.root_cause
            elif action == "resolve":
                problem.root_cause = request.root_cause
                problem.resolution_notes = request.resolution_notes
                problem.resolved_at = now
            elif action == "reopen":
                problem.resolved_at = None
            problem.state = to
            return await self._commit(self.problems, "problem", current, problem, actor, action, comment, now)

    # Changes ----------------------------------------------------------------------------

    def list_changes(
        self,
        *,
        states: list[ChangeState] | None = None,
        types: list[ChangeType] | None = None,
        ci: str | None = None,
        q: str | None = None,
    ) -> list[Change]:
        """Changes, newest first, matching every filter given."""
        return [
            change
            for change in self.changes.all()
            if (not states or change.state in states)
            and (not types or change.type in types)
            and _matches(change, ci, q)
        ]

    def find_open_change(self, correlation_id: str) -> Change | None:
        """The newest change with ``correlation_id`` that is not completed, failed or cancelled."""
        return next(
            (
                change
                for change in self.changes.all()
                if change.correlation_id == correlation_id and not is_final(CHANGE_TRANSITIONS, change.state)
            ),
            None,
        )

    async def create_change(
        self, request: ChangeRequest, actor: str, *, source_data: dict[str, Any] | None = None
    ) -> Change:
        """Request a change. A standard change is pre-approved: it is created ``approved``
        with an approval by ``standard-change-catalogue``; the others start as drafts."""
        cis = await self._check_cis(request.affected_cis)
        analysis = await self._analyse(cis)
        async with self._lock:
            now = self.clock()
            standard = request.type is ChangeType.STANDARD
            approvals = (
                [Approval(approver="standard-change-catalogue", decision="approved", comment="pre-approved", at=now)]
                if standard
                else []
            )
            change = Change(
                title=request.title,
                type=request.type,
                state=ChangeState.APPROVED if standard else ChangeState.DRAFT,
                description=request.description,
                risk=request.risk,
                rollback_plan=request.rollback_plan,
                window=request.window,
                approvals=approvals,
                assignee=request.assignee or None,
                affected_cis=cis,
                impact_analysis=analysis,
                correlation_id=request.correlation_id,
                source_data=source_data or {},
                created_by=actor,
                created_at=now,
                updated_at=now,
                history=[HistoryEntry(at=now, actor=actor, action="created")],
            )
            await self.changes.add(change)
            await self._publish("change.created", "change", change, {"actor": actor})
            return change

    async def update_change(self, number: str, patch: ChangePatch, actor: str) -> Change:
        """Change a change's fields. Its plan (risk, rollback plan, window, affected
        CIs) is what gets approved, so it changes only in ``draft``."""
        cis = await self._check_cis(patch.affected_cis) if patch.affected_cis is not None else None
        analysis = await self._analyse(cis) if cis is not None else None
        async with self._lock:
            current = self.changes.get(number)
            _refuse_final(CHANGE_TRANSITIONS, current.number, current.state)
            plan = [
                name for name in ("risk", "rollback_plan", "window", "affected_cis") if getattr(patch, name) is not None
            ]
            if plan and current.state is not ChangeState.DRAFT:
                raise Conflict(
                    f"{number} is {current.state.value}: its plan ({', '.join(plan)}) changes only in draft",
                    state=current.state.value,
                    fields=plan,
                )
            change = copy.deepcopy(current)
            _assign_fields(change, patch, ("title", "description", "risk", "rollback_plan", "window"))
            _assign_people(change, patch.assignee, "assignee")
            if cis is not None:
                change.affected_cis, change.impact_analysis = cis, analysis
            return await self._commit(self.changes, "change", current, change, actor, "updated")

    async def change_action(self, number: str, action: str, body: dict[str, Any] | None, actor: str) -> Change:
        """Move a change through its workflow (``CHANGE_TRANSITIONS``).

        Submitting needs a rollback plan, and a window unless the change is an
        emergency; scheduling needs a window that has not ended; starting needs the
        clock inside the window. Approvals and rejections are recorded with the
        approver's name (the actor without its ``token:`` prefix).
        """
        async with self._lock:
            current = self.changes.get(number)
            to = next_state(CHANGE_TRANSITIONS, number, current.state, action)
            request = parse(body, CHANGE_ACTION_BODIES[action])
            now = self.clock()
            change = copy.deepcopy(current)
            comment = getattr(request, "reason", None) or getattr(request, "comment", None) or None
            if action == "submit":
                _ready_for_approval(change)
            elif action in ("approve", "reject"):
                decision = "approved" if action == "approve" else "rejected"
                approver = actor.removeprefix("token:")
                change.approvals.append(Approval(approver=approver, decision=decision, comment=request.comment, at=now))
            elif action == "schedule":
                change.window = request.window or change.window
                if change.window is None:
                    raise InvalidInput(f"{number} has no window: give one to schedule it")
                if change.window.end <= now:
                    raise InvalidInput(f"the window ends {change.window.end.isoformat()}, which has passed")
            elif action == "start" and not (change.window and change.window.covers(now)):
                window = to_json(change.window)
                raise Conflict(f"{number} can start only inside its window", window=window, now=now.isoformat())
            elif action == "complete":
                change.close_notes = request.close_notes
            elif action == "fail":
                change.close_notes = request.reason
            change.state = to
            event = CHANGE_EVENTS[action]
            return await self._commit(self.changes, "change", current, change, actor, action, comment, now, event)

    async def change_approved_for(self, ci_id: str, at: datetime) -> Change | None:
        """The change that authorises work on ``ci_id`` at ``at``, if any.

        That is an approved, scheduled or in-progress change listing the CI among its
        affected CIs whose window contains ``at`` (naive times are UTC); the lowest
        number wins. The patch module asks this before it touches a CI.
        """
        at = as_utc(at)
        for change in sorted(self.changes.all(), key=lambda c: c.number):
            if (
                change.state in AUTHORISING
                and ci_id in change.affected_cis
                and change.window
                and change.window.covers(at)
            ):
                return change
        return None

    # Notes ------------------------------------------------------------------------------

    async def add_note(self, kind: Kind, number: str, text: str, actor: str) -> Record:
        """Append a work-log note to a record (any state: notes never change the workflow)."""
        book = self._book(kind)
        async with self._lock:
            current = book.get(number)
            now = self.clock()
            record = copy.deepcopy(current)
            record.notes.append(Note(at=now, author=actor, text=text))
            return await self._commit(book, kind, current, record, actor, "note", None, now)

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

    async def find_ci(self, ref: str) -> Ci | None:
        """The CI ``ref`` names: a CI id, a simulated object id, or an active CI's exact name."""
        backend = self.cmdb.backend
        with suppress(NotFound):
            return await backend.get_ci(ref)
        ci = await backend.find_by_source(ref)
        if ci is not None:
            return ci
        _, candidates = await backend.list_cis(CiQuery(q=ref, limit=1000))
        return next((candidate for candidate in candidates if candidate.name == ref), None)

    # Internals --------------------------------------------------------------------------

    def _book(self, kind: Kind) -> RecordBook[Any]:
        books: dict[str, RecordBook[Any]] = {
            "incident": self.incidents,
            "problem": self.problems,
            "change": self.changes,
        }
        return books[kind]

    def _priority(self, impact: int, urgency: int) -> str:
        return str(self.dcsim.hook.dcsim_itsm_priority(impact=impact, urgency=urgency))

    def _targets(self, priority: str) -> sla.SlaTarget:
        target: sla.SlaTarget = self.dcsim.hook.dcsim_itsm_sla_targets(priority=priority)
        return target

    async def _check_cis(self, ci_ids: list[str]) -> list[str]:
        unique = list(dict.fromkeys(ci_ids))
        unknown = []
        for ci_id in unique:
            try:
                await self.cmdb.backend.get_ci(ci_id)
            except NotFound:
                unknown.append(ci_id)
        if unknown:
            raise InvalidInput(f"no CI with id {', '.join(unknown)}", unknown_cis=unknown)
        return unique

    def _check_incidents(self, numbers: list[str]) -> list[str]:
        unique = list(dict.fromkeys(numbers))
        unknown = [number for number in unique if not self.incidents.exists(number)]
        if unknown:
            raise InvalidInput(f"no incident {', '.join(unknown)}", unknown_incidents=unknown)
        return unique

    async def _analyse(self, ci_ids: list[str]) -> ImpactAnalysis | None:
        """The CMDB impact of ``ci_ids`` together; each CI once, at its shortest depth."""
        if not ci_ids:
            return None
        affected = []
        found: dict[str, dict[str, ImpactedCi]] = {"upstream": {}, "downstream": {}}
        for ci_id in ci_ids:
            ci = await self.cmdb.backend.get_ci(ci_id)
            affected.append(ImpactedCi(id=ci.id, type=ci.type, name=ci.name, depth=0))
            report = await self.cmdb.impact(ci_id, IMPACT_DEPTH)
            for direction, seen in found.items():
                for item in report[direction]:
                    known = seen.get(item["id"])
                    if item["id"] not in ci_ids and (known is None or item["depth"] < known.depth):
                        seen[item["id"]] = ImpactedCi(
                            id=item["id"], type=item["type"], name=item["name"], depth=item["depth"]
                        )
        ordered = {
            direction: sorted(seen.values(), key=lambda c: (c.depth, c.type, c.name))
            for direction, seen in found.items()
        }
        return ImpactAnalysis(
            computed_at=self.clock(),
            depth=IMPACT_DEPTH,
            affected=affected,
            upstream=ordered["upstream"],
            downstream=ordered["downstream"],
        )

    async def _commit(
        self,
        book: RecordBook[R],
        kind: Kind,
        before: R,
        after: R,
        actor: str,
        action: str,
        comment: str | None = None,
        now: datetime | None = None,
        event: str | None = None,
    ) -> R:
        """Write ``after`` with a history entry and publish its event; an ``updated``
        that changes nothing writes and publishes nothing."""
        changes = _diff(before, after)
        if action == "updated" and not changes:
            return before
        now = now or self.clock()
        after.updated_at = now
        after.history.append(HistoryEntry(at=now, actor=actor, action=action, changes=changes, comment=comment))
        await book.save(after)
        data = {"action": action, "changes": changes, "comment": comment, "actor": actor}
        await self._publish(event or f"{kind}.updated", kind, after, data)
        return after

    async def _publish(self, event_type: str, kind: Kind, record: Record, data: dict[str, Any]) -> None:
        await self.dcsim.publish(
            event_type, {kind: to_json(record), **data}, source=SOURCE, subject=f"{kind}/{record.number}"
        )


def _matches(record: Record, ci: str | None, q: str | None) -> bool:
    if ci is not None and ci not in record.affected_cis:
        return False
    return q is None or q.lower() in record.title.lower()


def _refuse_final(table: dict[Any, dict[str, Any]], number: str, state: Any) -> None:
    if is_final(table, state):
        raise Conflict(f"{number} is {state.value}, which is final: it cannot change", state=state.value, allowed=[])


def _assign_fields(record: Record, patch: Any, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(patch, name)
        if value is not None:
            setattr(record, name, value)


def _assign_people(record: Record, value: str | None, name: str) -> None:
    """Set an assignment; the empty string clears it."""
    if value is not None:
        setattr(record, name, value or None)


def _ready_for_approval(change: Change) -> None:
    missing = []
    if not change.rollback_plan.strip():
        missing.append("rollback_plan")
    if change.window is None and change.type is not ChangeType.EMERGENCY:
        missing.append("window")
    if missing:
        raise Conflict(
            f"{change.number} cannot be submitted without {' and '.join(missing)} (set them while in draft)",
            state=change.state.value,
            missing=missing,
        )


def _diff(before: Record, after: Record) -> dict[str, list[Any]]:
    old, new = to_json(before), to_json(after)
    return {key: [old[key], new[key]] for key in new if key not in _UNTRACKED and old[key] != new[key]}
