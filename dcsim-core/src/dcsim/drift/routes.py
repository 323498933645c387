"""The ``/drift`` REST API: events and their actions, policies, reconcile, reports, the score."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from dcsim.app import DcSim
from dcsim.convert import from_json, to_json
from dcsim.drift import answer_key
from dcsim.drift.model import LIVE_STATES, DriftState, Policy
from dcsim.drift.schemas import (
    DriftEventOut,
    NoteIn,
    OutOfBandChange,
    PolicyIn,
    PolicyOut,
    ReconcileOut,
    Report,
    Score,
    TimelinePoint,
    TruthOut,
)
from dcsim.drift.service import DriftService
from dcsim.errors import Conflict, InvalidInput, NotFound
from dcsim.web.contracts import LimitQuery, OffsetQuery, Page, page, responses

Filter = Annotated[str | None, QueryParameter(max_length=200)]
#: ``?state=a,b``: Litestar reserves the parameter name ``state`` for app state.
StateQuery = Annotated[str | None, QueryParameter(name="state", max_length=200, description="States, comma-separated")]


def _drift(dcsim: DcSim) -> DriftService:
    return dcsim.services.get(DriftService)


def _event(event: Any) -> DriftEventOut:
    return msgspec.convert(to_json(event), DriftEventOut)


def _policy(policy: Policy) -> PolicyOut:
    return msgspec.convert(to_json(policy), PolicyOut)


class DriftEventController(Controller):
    """Drift events: field-level differences from desired state, with their lifecycle."""

    path = "/drift/events"
    tags = ["drift"]

    @get("/", summary="Drift events, newest first, filtered and paginated", responses=responses())
    async def list_events(
        self,
        dcsim: NamedDependency[DcSim],
        states: StateQuery = None,
        ci: Filter = None,
        category: Filter = None,
        severity: Filter = None,
        field: Filter = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[DriftEventOut]:
        wanted = {s.strip() for s in states.split(",")} if states else None
        known = {s.value for s in DriftState}
        if wanted and not wanted <= known:
            raise InvalidInput(f"unknown state in {states!r}; known: {', '.join(sorted(known))}",
                               errors=[{"field": "state", "message": f"known: {', '.join(sorted(known))}"}])  # fmt: skip
        events = sorted(_drift(dcsim).events.values(), key=lambda e: e.detected_at, reverse=True)
        chosen = [
            e for e in events
            if (wanted is None or e.state.value in wanted) and (ci is None or ci in (e.ci, e.ci_name, e.object_id))
            and (category is None or e.category.value == category) and (severity is None or e.severity == severity)
            and (field is None or e.field == field)
        ]  # fmt: skip
        return page([_event(e) for e in chosen], limit, offset)

    @get("/{event_id:str}", summary="One drift event", responses=responses(404))
    async def get_event(self, dcsim: NamedDependency[DcSim], event_id: FromPath[str]) -> DriftEventOut:
        return _event(_drift(dcsim).get(event_id))

    @post("/{event_id:str}/acknowledge", status_code=HTTP_200_OK, summary="Acknowledge a drift event",
          responses=responses(404, 409, body=True))  # fmt: skip
    async def acknowledge(
        self, dcsim: NamedDependency[DcSim], event_id: FromPath[str], data: JSONBody[NoteIn | None] = None
    ) -> DriftEventOut:
        note = data.note if data else ""
        return _event(await _drift(dcsim).set_state(event_id, DriftState.ACKNOWLEDGED, note))

    @post("/{event_id:str}/suppress", status_code=HTTP_200_OK, summary="Suppress a drift event",
          responses=responses(404, 409, body=True))  # fmt: skip
    async def suppress(
        self, dcsim: NamedDependency[DcSim], event_id: FromPath[str], data: JSONBody[NoteIn | None] = None
    ) -> DriftEventOut:
        note = data.note if data else ""
        return _event(await _drift(dcsim).set_state(event_id, DriftState.SUPPRESSED, note))

    @post("/{event_id:str}/remediate", status_code=HTTP_200_OK, summary="Remediate through the runner",
          responses=responses(404, 409))  # fmt: skip
    async def remediate(self, dcsim: NamedDependency[DcSim], event_id: FromPath[str]) -> DriftEventOut:
        return _event(await _drift(dcsim).remediate(event_id))


class DriftPolicyController(Controller):
    """Drift policies: what is watched, how severe drift is, and what happens."""

    path = "/drift/policies"
    tags = ["drift"]

    @get("/", summary="Drift policies", responses=responses())
    async def list_policies(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[PolicyOut]:
        policies = sorted(_drift(dcsim).policies.values(), key=lambda p: p.id)
        return page([_policy(p) for p in policies], limit, offset)

    @post("/", status_code=HTTP_201_CREATED, summary="Create a drift policy", responses=responses(409, body=True))
    async def create_policy(self, dcsim: NamedDependency[DcSim], data: JSONBody[PolicyIn]) -> PolicyOut:
        drift = _drift(dcsim)
        if data.id in drift.policies:
            raise Conflict(f"drift policy {data.id!r} exists")
        return _policy(await drift.save_policy(from_json(msgspec.to_builtins(data), Policy)))

    @get("/{policy_id:str}", summary="One drift policy", responses=responses(404))
    async def get_policy(self, dcsim: NamedDependency[DcSim], policy_id: FromPath[str]) -> PolicyOut:
        drift = _drift(dcsim)
        if policy_id not in drift.policies:
            raise NotFound(f"no drift policy {policy_id!r}")
        return _policy(drift.policies[policy_id])

    @put("/{policy_id:str}", summary="Replace a drift policy", responses=responses(404, body=True))
    async def replace_policy(
        self, dcsim: NamedDependency[DcSim], policy_id: FromPath[str], data: JSONBody[PolicyIn]
    ) -> PolicyOut:
        if data.id != policy_id:
            raise InvalidInput("the body's id is the path's", errors=[{"field": "id", "message": "must be the path's"}])
        drift = _drift(dcsim)
        if policy_id not in drift.policies:
            raise NotFound(f"no drift policy {policy_id!r}")
        return _policy(await drift.save_policy(from_json(msgspec.to_builtins(data), Policy)))

    @delete("/{policy_id:str}", status_code=HTTP_204_NO_CONTENT, summary="Delete a drift policy",
            responses=responses(404))  # fmt: skip
    async def delete_policy(self, dcsim: NamedDependency[DcSim], policy_id: FromPath[str]) -> None:
        await _drift(dcsim).delete_policy(policy_id)


class DriftController(Controller):
    """Reconcile on demand, reports, and the answer key."""

    path = "/drift"
    tags = ["drift"]

    @post("/reconcile", status_code=HTTP_200_OK, summary="Sweep every source now", responses=responses())
    async def reconcile(self, dcsim: NamedDependency[DcSim]) -> ReconcileOut:
        return ReconcileOut(**await _drift(dcsim).reconcile())

    @get("/report", summary="Live drift by category, severity and CI type", responses=responses())
    async def report(self, dcsim: NamedDependency[DcSim]) -> Report:
        events = list(_drift(dcsim).events.values())
        live = [e for e in events if e.state in LIVE_STATES]
        return Report(
            open=len(live),
            by_category=dict(Counter(e.category.value for e in live)),
            by_severity=dict(Counter(e.severity for e in live)),
            by_ci_type=dict(Counter(e.ci_type for e in live)),
            by_state=dict(Counter(e.state.value for e in events)),
        )

    @get("/report/timeline", summary="Drift detected and resolved per hour", responses=responses())
    async def timeline(self, dcsim: NamedDependency[DcSim]) -> list[TimelinePoint]:
        hours: dict[Any, list[int]] = {}
        for e in _drift(dcsim).events.values():
            hours.setdefault(e.detected_at.replace(minute=0, second=0, microsecond=0), [0, 0])[0] += 1
            if e.resolved_at is not None:
                hours.setdefault(e.resolved_at.replace(minute=0, second=0, microsecond=0), [0, 0])[1] += 1
        return [TimelinePoint(hour=h, detected=d, resolved=r) for h, (d, r) in sorted(hours.items())]

    @get("/score", summary="Detections scored against what dc-sim injected", responses=responses())
    async def score(self, dcsim: NamedDependency[DcSim]) -> Score:
        drift = _drift(dcsim)
        return msgspec.convert(answer_key.score(drift.truth, list(drift.events.values())), Score)

    @get("/truth", summary="The answer key: every fault and out-of-band change injected", responses=responses())
    async def truth(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[TruthOut]:
        items = [msgspec.convert(to_json(item), TruthOut) for item in _drift(dcsim).truth]
        return page(items, limit, offset)

    @post("/truth/changes", status_code=HTTP_201_CREATED, summary="Make an out-of-band change and record it",
          responses=responses(404, body=True))  # fmt: skip
    async def out_of_band(self, dcsim: NamedDependency[DcSim], data: JSONBody[OutOfBandChange]) -> TruthOut:
        item = await answer_key.change_out_of_band(_drift(dcsim), msgspec.to_builtins(data))
        return msgspec.convert(to_json(item), TruthOut)


HANDLERS = [DriftEventController, DriftPolicyController, DriftController]
