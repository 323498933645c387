"""Changes: planned in draft, approved, scheduled in a window, then carried out."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from dcsim.convert import to_json
from dcsim.errors import Conflict, InvalidInput
from dcsim.etag import check_if_match
from dcsim.itsm.model import (
    Approval,
    Change,
    ChangePatch,
    ChangeRequest,
    ChangeState,
    ChangeType,
    as_utc,
)
from dcsim.itsm.record_service import RecordService, assign_fields, assign_people
from dcsim.itsm.workflow import CHANGE_ACTION_BODIES, CHANGE_EVENTS, CHANGE_TRANSITIONS

#: Changes in these states authorise work inside their window.
AUTHORISING = (ChangeState.APPROVED, ChangeState.SCHEDULED, ChangeState.IN_PROGRESS)
#: The fields of a change's plan: what gets approved, so they change only in draft.
PLAN = ("risk", "rollback_plan", "window", "affected_cis")


class ChangeService(RecordService[Change]):
    """``itsm.changes``: request, approve, schedule and carry out changes."""

    kind = "change"
    transitions = CHANGE_TRANSITIONS
    action_bodies = CHANGE_ACTION_BODIES

    def query(
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
            for change in self.matching(ci, q)
            if (not states or change.state in states) and (not types or change.type in types)
        ]

    async def create(self, request: ChangeRequest, actor: str, *, source_data: dict[str, Any] | None = None) -> Change:
        """Request a change. A standard change is pre-approved: it is created ``approved``
        with an approval by ``standard-change-catalogue``; the others start as drafts."""
        affected = await self.affected(request.affected_cis)
        async with self.itsm.lock:
            now = self.itsm.clock()
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
                **self.new_fields(actor, now, affected, request.correlation_id, source_data),
            )
            return await self.insert(change, actor)

    async def update(self, number: str, patch: ChangePatch, actor: str, if_match: str | None = None) -> Change:
        """Change a change's fields. Its plan (risk, rollback plan, window, affected
        CIs) is what gets approved, so it changes only in ``draft``."""
        affected = await self.affected(patch.affected_cis) if patch.affected_cis is not None else None
        async with self.itsm.lock:
            current = self.get(number)
            check_if_match(if_match, current)
            self.refuse_final(current)
            plan = [name for name in PLAN if getattr(patch, name) is not None]
            if plan and current.state is not ChangeState.DRAFT:
                raise Conflict(
                    f"{number} is {current.state.value}: its plan ({', '.join(plan)}) changes only in draft",
                    state=current.state.value,
                    fields=plan,
                )
            change = copy.deepcopy(current)
            assign_fields(change, patch, ("title", "description", "risk", "rollback_plan", "window"))
            assign_people(change, patch.assignee, "assignee")
            if affected is not None:
                change.affected_cis, change.impact_analysis = affected
            return await self.commit(current, change, actor, "updated")

    async def approved_for(self, ci_id: str, at: datetime) -> Change | None:
        """The change that authorises work on ``ci_id`` at ``at``, if any.

        That is an approved, scheduled or in-progress change listing the CI among its
        affected CIs whose window contains ``at`` (naive times are UTC); the lowest
        number wins. The patch module asks this before it touches a CI.
        """
        at = as_utc(at)
        for change in sorted(self.book.all(), key=lambda c: c.number):
            if (
                change.state in AUTHORISING
                and ci_id in change.affected_cis
                and change.window
                and change.window.covers(at)
            ):
                return change
        return None

    def _apply(self, action: str, request: Any, current: Change, change: Change, now: datetime, actor: str) -> None:
        """Submitting needs a rollback plan, and a window unless the change is an
        emergency; scheduling needs a window that has not ended; starting needs the
        clock inside the window. Approvals and rejections are recorded with the
        approver's name (the actor without its ``token:`` prefix)."""
        number = change.number
        if action == "submit":
            _ready_for_approval(current)
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

    def _event(self, action: str) -> str | None:
        return CHANGE_EVENTS[action]


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
