"""Incidents: priority from impact x urgency, SLA timers that follow the workflow."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from dcsim.etag import check_if_match
from dcsim.itsm import sla
from dcsim.itsm.model import Incident, IncidentPatch, IncidentRequest, IncidentState
from dcsim.itsm.record_service import RecordService, assign_fields, assign_people
from dcsim.itsm.workflow import INCIDENT_ACTION_BODIES, INCIDENT_TRANSITIONS


class IncidentService(RecordService[Incident]):
    """``itsm.incidents``: open, change and move incidents through their workflow."""

    kind = "incident"
    transitions = INCIDENT_TRANSITIONS
    action_bodies = INCIDENT_ACTION_BODIES

    def query(
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
            for incident in self.matching(ci, q)
            if (not states or incident.state in states)
            and (priority is None or incident.priority == priority)
            and (assignee is None or incident.assignee == assignee)
        ]

    async def create(
        self, request: IncidentRequest, actor: str, *, source_data: dict[str, Any] | None = None
    ) -> Incident:
        """Open an incident; its priority is impact x urgency (the hook) unless given."""
        affected = await self.affected(request.affected_cis)
        priority = request.priority or self.itsm.priority(request.impact, request.urgency)
        async with self.itsm.lock:
            now = self.itsm.clock()
            incident = Incident(
                title=request.title,
                description=request.description,
                impact=request.impact,
                urgency=request.urgency,
                priority=priority,
                priority_overridden=request.priority is not None,
                assignee=request.assignee or None,
                assignment_group=request.assignment_group or None,
                **self.new_fields(actor, now, affected, request.correlation_id, source_data),
                sla=sla.new_sla(priority, self.itsm.sla_targets(priority), now),
            )
            return await self.insert(incident, actor)

    async def update(self, number: str, patch: IncidentPatch, actor: str, if_match: str | None = None) -> Incident:
        """Change an incident's fields; a new impact or urgency re-derives the priority
        unless it was set by hand, and a new priority re-targets the SLA."""
        affected = await self.affected(patch.affected_cis) if patch.affected_cis is not None else None
        async with self.itsm.lock:
            current = self.get(number)
            check_if_match(if_match, current)
            self.refuse_final(current)
            incident = copy.deepcopy(current)
            assign_fields(incident, patch, ("title", "description", "impact", "urgency"))
            assign_people(incident, patch.assignee, "assignee")
            assign_people(incident, patch.assignment_group, "assignment_group")
            if affected is not None:
                incident.affected_cis, incident.impact_analysis = affected
            if patch.priority is not None:
                incident.priority, incident.priority_overridden = patch.priority, True
            elif not incident.priority_overridden:
                incident.priority = self.itsm.priority(incident.impact, incident.urgency)
            if incident.priority != current.priority:
                targets = self.itsm.sla_targets(incident.priority)
                sla.retarget(incident.sla, incident.priority, targets, incident.created_at)
            return await self.commit(current, incident, actor, "updated")

    def _apply(
        self, action: str, request: Any, current: Incident, incident: Incident, now: datetime, actor: str
    ) -> None:
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
        if incident.state is not IncidentState.ON_HOLD:
            incident.on_hold_reason = None
        sla.on_transition(incident.sla, current.state, incident.state, now, incident.created_at)

    async def _after_action(self, incident: Incident, now: datetime) -> Incident:
        """An SLA target exceeded by the time the timer stops or pauses is recorded."""
        kinds = sla.overdue(incident.sla, now, incident.created_at)
        if kinds:
            incident = (await self.itsm.slas.record(incident, kinds, now))[1]
        return incident
