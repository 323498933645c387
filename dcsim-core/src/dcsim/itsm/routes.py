"""The ``/itsm`` REST API: incidents, problems and changes, their workflows, alerts, rules.

Workflow actions share one shape per record kind, ``POST /itsm/<records>/{number}/{action}``
with the action's body; the tables in :mod:`dcsim.itsm.workflow` say which actions
exist and where each leads.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, TypeVar

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from dcsim.app import DcSim
from dcsim.errors import Forbidden, InvalidInput
from dcsim.itsm.model import (
    PRIORITIES,
    ChangePatch,
    ChangeRequest,
    ChangeState,
    ChangeType,
    IncidentPatch,
    IncidentRequest,
    IncidentState,
    NoteRequest,
    ProblemPatch,
    ProblemRequest,
    ProblemState,
)
from dcsim.itsm.record_service import parse
from dcsim.itsm.service import Itsm
from dcsim.itsm.workflow import CHANGE_TRANSITIONS, INCIDENT_TRANSITIONS, PROBLEM_TRANSITIONS, actions, describe
from dcsim.model import Role, Token
from dcsim.web.etag import ETAG_HEADERS, IfMatch, tagged
from dcsim.web.paging import page

E = TypeVar("E", bound=enum.Enum)

#: ``?state=a,b``: Litestar reserves the parameter name ``state`` for app state.
StateQuery = Annotated[str | None, Parameter(query="state", description="states, comma-separated")]
#: Change actions that are the change manager's: approving and rejecting need an admin token.
ADMIN_ACTIONS = frozenset({"approve", "reject"})


def _itsm(dcsim: DcSim) -> Itsm:
    return dcsim.services.get(Itsm)


def _token(request: Request[Any, Any, Any]) -> Token:
    token: Token = request.scope["state"]["token"]
    return token


def _actor(request: Request[Any, Any, Any]) -> str:
    return f"token:{_token(request).name}"


def _members(value: str | None, cls: type[E]) -> list[E] | None:
    """``state=a,b`` as enum members; unknown names are a 400 naming the known ones."""
    if not value:
        return None
    try:
        return [cls(name.strip()) for name in value.split(",") if name.strip()]
    except ValueError:
        known = ", ".join(member.value for member in cls)
        raise InvalidInput(f"unknown {cls.__name__} in {value!r}; known: {known}") from None


def _patch_body(data: dict[str, Any], records: str, table: dict[Any, dict[str, Any]]) -> None:
    if "state" in data:
        raise InvalidInput(
            f"state changes only through the workflow: POST /itsm/{records}/{{number}}/{{action}}",
            actions=actions(table),
        )


class IncidentController(Controller):
    """Incidents: P1-P4, SLAs, workflow new > in_progress > on_hold > resolved > closed."""

    path = "/itsm/incidents"
    tags = ["itsm"]

    @get("/", summary="Incidents, newest first, filtered and paginated")
    async def list_incidents(
        self,
        dcsim: NamedDependency[DcSim],
        states: StateQuery = None,
        priority: FromQuery[str | None] = None,
        assignee: FromQuery[str | None] = None,
        ci: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
        offset: FromQuery[int] = 0,
    ) -> dict[str, Any]:
        if priority is not None and priority not in PRIORITIES:
            raise InvalidInput(f"priority must be one of {', '.join(PRIORITIES)}")
        found = _itsm(dcsim).incidents.query(
            states=_members(states, IncidentState), priority=priority, assignee=assignee, ci=ci, q=q
        )
        return page(found, limit, offset)

    @post("/", status_code=HTTP_201_CREATED, summary="Open an incident", response_headers=ETAG_HEADERS)
    async def create_incident(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]
    ) -> Response[Any]:
        incident = await _itsm(dcsim).incidents.create(parse(data, IncidentRequest), _actor(request))
        return tagged(incident)

    @get(
        "/{number:str}",
        summary="One incident with its notes, history and SLA, with its ETag",
        response_headers=ETAG_HEADERS,
    )
    async def get_incident(self, dcsim: NamedDependency[DcSim], number: FromPath[str]) -> Response[Any]:
        return tagged(_itsm(dcsim).incidents.get(number))

    @patch(
        "/{number:str}",
        summary="Change an incident's fields (not its state); If-Match: a stale ETag is a 412",
        response_headers=ETAG_HEADERS,
    )
    async def patch_incident(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[dict[str, Any]],
        if_match: IfMatch = None,
    ) -> Response[Any]:
        _patch_body(data, "incidents", INCIDENT_TRANSITIONS)
        incident = await _itsm(dcsim).incidents.update(number, parse(data, IncidentPatch), _actor(request), if_match)
        return tagged(incident)

    @post(
        "/{number:str}/notes",
        status_code=HTTP_201_CREATED,
        summary="Add a work-log note",
        response_headers=ETAG_HEADERS,
    )
    async def add_note(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[dict[str, Any]],
        if_match: IfMatch = None,
    ) -> Response[Any]:
        text = parse(data, NoteRequest).text
        return tagged(await _itsm(dcsim).incidents.add_note(number, text, _actor(request), if_match))

    @post(
        "/{number:str}/{action:str}",
        status_code=HTTP_200_OK,
        response_headers=ETAG_HEADERS,
        summary="Workflow action: start, hold, resume, resolve, close, reopen or cancel",
    )
    async def incident_action(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        action: FromPath[str],
        data: JSONBody[dict[str, Any] | None] = None,
        if_match: IfMatch = None,
    ) -> Response[Any]:
        incident = await _itsm(dcsim).incidents.act(number, action, data, _actor(request), if_match)
        return tagged(incident)


class ProblemController(Controller):
    """Problems: investigating > known_error > resolved, with linked incidents."""

    path = "/itsm/problems"
    tags = ["itsm"]

    @get("/", summary="Problems, newest first, filtered and paginated")
    async def list_problems(
        self,
        dcsim: NamedDependency[DcSim],
        states: StateQuery = None,
        incident: FromQuery[str | None] = None,
        ci: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
        offset: FromQuery[int] = 0,
    ) -> dict[str, Any]:
        found = _itsm(dcsim).problems.query(states=_members(states, ProblemState), incident=incident, ci=ci, q=q)
        return page(found, limit, offset)

    @post("/", status_code=HTTP_201_CREATED, summary="Open a problem", response_headers=ETAG_HEADERS)
    async def create_problem(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]
    ) -> Response[Any]:
        problem = await _itsm(dcsim).problems.create(parse(data, ProblemRequest), _actor(request))
        return tagged(problem)

    @get("/{number:str}", summary="One problem, with its ETag", response_headers=ETAG_HEADERS)
    async def get_problem(self, dcsim: NamedDependency[DcSim], number: FromPath[str]) -> Response[Any]:
        return tagged(_itsm(dcsim).problems.get(number))

    @patch(
        "/{number:str}",
        summary="Change a problem's fields or linked incidents (not its state); If-Match: a stale ETag is a 412",
        response_headers=ETAG_HEADERS,
    )
    async def patch_problem(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[dict[str, Any]],
        if_match: IfMatch = None,
    ) -> Response[Any]:
        _patch_body(data, "problems", PROBLEM_TRANSITIONS)
        problem = await _itsm(dcsim).problems.update(number, parse(data, ProblemPatch), _actor(request), if_match)
        return tagged(problem)

    @post(
        "/{number:str}/notes",
        status_code=HTTP_201_CREATED,
        summary="Add a work-log note",
        response_headers=ETAG_HEADERS,
    )
    async def add_note(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[dict[str, Any]],
        if_match: IfMatch = None,
    ) -> Response[Any]:
        text = parse(data, NoteRequest).text
        return tagged(await _itsm(dcsim).problems.add_note(number, text, _actor(request), if_match))

    @post(
        "/{number:str}/{action:str}",
        status_code=HTTP_200_OK,
        summary="Workflow action: known_error, resolve or reopen",
        response_headers=ETAG_HEADERS,
    )
    async def problem_action(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        action: FromPath[str],
        data: JSONBody[dict[str, Any] | None] = None,
        if_match: IfMatch = None,
    ) -> Response[Any]:
        problem = await _itsm(dcsim).problems.act(number, action, data, _actor(request), if_match)
        return tagged(problem)


class ChangeController(Controller):
    """Changes: draft > pending_approval > approved > scheduled > in_progress > completed / failed."""

    path = "/itsm/changes"
    tags = ["itsm"]

    @get("/", summary="Changes, newest first, filtered and paginated")
    async def list_changes(
        self,
        dcsim: NamedDependency[DcSim],
        states: StateQuery = None,
        type: FromQuery[str | None] = None,
        ci: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
        offset: FromQuery[int] = 0,
    ) -> dict[str, Any]:
        found = _itsm(dcsim).changes.query(
            states=_members(states, ChangeState), types=_members(type, ChangeType), ci=ci, q=q
        )
        return page(found, limit, offset)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Request a change (standard changes are created approved)",
        response_headers=ETAG_HEADERS,
    )
    async def create_change(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]
    ) -> Response[Any]:
        change = await _itsm(dcsim).changes.create(parse(data, ChangeRequest), _actor(request))
        return tagged(change)

    @get("/{number:str}", summary="One change with its approvals, with its ETag", response_headers=ETAG_HEADERS)
    async def get_change(self, dcsim: NamedDependency[DcSim], number: FromPath[str]) -> Response[Any]:
        return tagged(_itsm(dcsim).changes.get(number))

    @patch(
        "/{number:str}",
        summary="Change a change's fields (its plan only in draft); If-Match: a stale ETag is a 412",
        response_headers=ETAG_HEADERS,
    )
    async def patch_change(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[dict[str, Any]],
        if_match: IfMatch = None,
    ) -> Response[Any]:
        _patch_body(data, "changes", CHANGE_TRANSITIONS)
        change = await _itsm(dcsim).changes.update(number, parse(data, ChangePatch), _actor(request), if_match)
        return tagged(change)

    @post(
        "/{number:str}/notes",
        status_code=HTTP_201_CREATED,
        summary="Add a work-log note",
        response_headers=ETAG_HEADERS,
    )
    async def add_note(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[dict[str, Any]],
        if_match: IfMatch = None,
    ) -> Response[Any]:
        text = parse(data, NoteRequest).text
        return tagged(await _itsm(dcsim).changes.add_note(number, text, _actor(request), if_match))

    @post(
        "/{number:str}/{action:str}",
        status_code=HTTP_200_OK,
        response_headers=ETAG_HEADERS,
        summary="Workflow action: submit, approve, reject, schedule, start, complete, fail or cancel "
        "(approve and reject need an admin token)",
    )
    async def change_action(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        action: FromPath[str],
        data: JSONBody[dict[str, Any] | None] = None,
        if_match: IfMatch = None,
    ) -> Response[Any]:
        token = _token(request)
        if action in ADMIN_ACTIONS and not token.role.allows(Role.ADMIN):
            raise Forbidden(
                f"{action} needs the admin role; the token has {token.role.value}",
                required_role=Role.ADMIN.value,
                token_role=token.role.value,
            )
        change = await _itsm(dcsim).changes.act(number, action, data, _actor(request), if_match)
        return tagged(change)


class ItsmController(Controller):
    """Alert intake, automation rules, SLA targets and the workflow tables."""

    path = "/itsm"
    tags = ["itsm"]

    @post(
        "/alerts/{receiver:str}",
        status_code=HTTP_200_OK,
        summary="Webhook for alerts (receiver alertmanager: Alertmanager's payload, version 4)",
    )
    async def alerts(
        self, dcsim: NamedDependency[DcSim], receiver: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        return await _itsm(dcsim).run_webhook(receiver, data)

    @get("/rules", summary="Automation rules and whether each is enabled")
    async def rules(self, dcsim: NamedDependency[DcSim]) -> list[dict[str, Any]]:
        return _itsm(dcsim).rules.describe()

    @get("/sla", summary="Response and resolution targets per priority, in seconds")
    async def sla_targets(self, dcsim: NamedDependency[DcSim]) -> dict[str, dict[str, int]]:
        targets = {priority: dcsim.call.itsm_sla_targets(priority=priority) for priority in PRIORITIES}
        return {
            priority: {
                "response_seconds": int(target.response.total_seconds()),
                "resolution_seconds": int(target.resolution.total_seconds()),
            }
            for priority, target in targets.items()
        }

    @get("/workflows", summary="The transition tables: state -> {action: next state}")
    async def workflows(self) -> dict[str, dict[str, dict[str, str]]]:
        return {
            "incident": describe(INCIDENT_TRANSITIONS),
            "problem": describe(PROBLEM_TRANSITIONS),
            "change": describe(CHANGE_TRANSITIONS),
        }


HANDLERS = (IncidentController, ProblemController, ChangeController, ItsmController)
