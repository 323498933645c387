"""Problems: the cause behind incidents, linked to them, with a workaround."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from dcsim.errors import InvalidInput
from dcsim.etag import check_if_match
from dcsim.itsm.model import Problem, ProblemPatch, ProblemRequest, ProblemState
from dcsim.itsm.record_service import RecordService, assign_fields, assign_people
from dcsim.itsm.workflow import PROBLEM_ACTION_BODIES, PROBLEM_TRANSITIONS


class ProblemService(RecordService[Problem]):
    """``itsm.problems``: open, change and move problems through their workflow."""

    kind = "problem"
    transitions = PROBLEM_TRANSITIONS
    action_bodies = PROBLEM_ACTION_BODIES

    def query(
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
            for problem in self.matching(ci, q)
            if (not states or problem.state in states) and (incident is None or incident in problem.incidents)
        ]

    async def create(self, request: ProblemRequest, actor: str) -> Problem:
        """Open a problem, linked to existing incidents."""
        affected = await self.affected(request.affected_cis)
        async with self.itsm.lock:
            now = self.itsm.clock()
            problem = Problem(
                title=request.title,
                description=request.description,
                assignee=request.assignee or None,
                incidents=self._check_incidents(request.incidents),
                **self.new_fields(actor, now, affected),
            )
            return await self.insert(problem, actor)

    async def update(self, number: str, patch: ProblemPatch, actor: str, if_match: str | None = None) -> Problem:
        """Change a problem's fields; ``incidents`` replaces the linked incidents."""
        affected = await self.affected(patch.affected_cis) if patch.affected_cis is not None else None
        async with self.itsm.lock:
            current = self.get(number)
            check_if_match(if_match, current)
            problem = copy.deepcopy(current)
            assign_fields(problem, patch, ("title", "description", "workaround", "root_cause"))
            assign_people(problem, patch.assignee, "assignee")
            if affected is not None:
                problem.affected_cis, problem.impact_analysis = affected
            if patch.incidents is not None:
                problem.incidents = self._check_incidents(patch.incidents)
            return await self.commit(current, problem, actor, "updated")

    def _apply(self, action: str, request: Any, current: Problem, problem: Problem, now: datetime, actor: str) -> None:
        if action == "known_error":
            problem.workaround = request.workaround
            problem.root_cause = request.root_cause or problem.root_cause
        elif action == "resolve":
            problem.root_cause = request.root_cause
            problem.resolution_notes = request.resolution_notes
            problem.resolved_at = now
        elif action == "reopen":
            problem.resolved_at = None

    def _check_incidents(self, numbers: list[str]) -> list[str]:
        unique = list(dict.fromkeys(numbers))
        unknown = [number for number in unique if not self.itsm.incidents.exists(number)]
        if unknown:
            raise InvalidInput(f"no incident {', '.join(unknown)}", unknown_incidents=unknown)
        return unique
