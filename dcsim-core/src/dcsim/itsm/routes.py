"""The ``/itsm`` REST API: incidents, problems and changes, their workflows, alerts, rules.

Workflow actions share one shape per record kind, ``POST /itsm/<records>/{number}/{action}``
with the action's body; the tables in :mod:`dcsim.itsm.workflow` say which actions
exist and where each leads. Bodies are the strict models of :mod:`dcsim.itsm.schemas`
(SPEC-010); single records carry an ``ETag`` and writes take ``If-Match``.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from dcsim.app import DcSim
from dcsim.errors import Forbidden, InvalidInput
from dcsim.itsm.model import (
    PRIORITIES,
    Change,
    ChangePatch,
    ChangeRequest,
    ChangeState,
    ChangeType,
    Incident,
    IncidentPatch,
    IncidentRequest,
    IncidentState,
    Problem,
    ProblemPatch,
    ProblemRequest,
    ProblemState,
)
from dcsim.itsm.schemas import (
    ChangeChange,
    ChangeCreate,
    IncidentChange,
    IncidentCreate,
    NoteCreate,
    Priority,
    ProblemChange,
    ProblemCreate,
    RuleInfo,
    SlaTargets,
    Workflows,
    to_domain,
)
from dcsim.itsm.service import Itsm
from dcsim.itsm.workflow import CHANGE_TRANSITIONS, INCIDENT_TRANSITIONS, PROBLEM_TRANSITIONS, describe
from dcsim.model import Role, Token
from dcsim.web.contracts import LimitQuery, OffsetQuery, Page, page, responses
from dcsim.web.etag import ETAG_HEADERS, IfMatch, tagged
from dcsim.web.idempotency import IdempotentOperation, idempotent

E = TypeVar("E", bound=enum.Enum)

#: ``?state=a,b``: Litestar reserves the parameter name ``state`` for app state.
StateQuery = Annotated[str | None, QueryParameter(name="state", max_length=400, description="States, comma-separated")]
#: ``?q=`` and the other free-text filters.
TextQuery = Annotated[str | None, QueryParameter(max_length=200)]
#: An action's body: each action has its own (``GET /itsm/workflows`` lists the actions;
#: SPEC-006 their bodies), checked strictly by the action's body class.
ActionBody = JSONBody[dict[str, Any] | None]
#: Change actions that are the change manager's: approving and rejecting need an admin token.
ADMIN_ACTIONS = frozenset({"approve", "reject"})

READ = responses(404)
CREATE = responses(body=True)
WRITE = responses(404, 409, 412, body=True)
ACT = responses(404, 409, 412, body=True)


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
        raise InvalidInput(
            f"unknown {cls.__name__} in {value!r}; known: {known}",
            errors=[{"field": "state", "message": f"known: {known}"}],
        ) from None


class IncidentController(Controller):
    """Incidents: P1-P4, SLAs, workflow new > in_progress > on_hold > resolved > closed."""

    path = "/itsm/incidents"
    tags = ["itsm"]

    @get("/", summary="Incidents, newest first, filtered and paginated", responses=responses())
    async def list_incidents(
        self,
        dcsim: NamedDependency[DcSim],
        states: StateQuery = None,
        priority: FromQuery[Priority | None] = None,
        assignee: TextQuery = None,
        ci: TextQuery = None,
        q: TextQuery = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[Incident]:
        found = _itsm(dcsim).incidents.query(
            states=_members(states, IncidentState), priority=priority, assignee=assignee, ci=ci, q=q
        )
        return page(found, limit, offset)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Open an incident",
        response_headers=ETAG_HEADERS,
        responses=CREATE,
        middleware=[idempotent],
        operation_class=IdempotentOperation,
    )
    async def create_incident(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[IncidentCreate]
    ) -> Response[Incident]:
        return tagged(await _itsm(dcsim).incidents.create(to_domain(data, IncidentRequest), _actor(request)))

    @get(
        "/{number:str}",
        summary="One incident with its notes, history and SLA, with its ETag",
        response_headers=ETAG_HEADERS,
        responses=READ,
    )
    async def get_incident(self, dcsim: NamedDependency[DcSim], number: FromPath[str]) -> Response[Incident]:
        return tagged(_itsm(dcsim).incidents.get(number))

    @patch(
        "/{number:str}",
        summary="Change an incident's fields (its state only through actions); If-Match: a stale ETag is a 412",
        response_headers=ETAG_HEADERS,
        responses=WRITE,
    )
    async def patch_incident(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[IncidentChange],
        if_match: IfMatch = None,
    ) -> Response[Incident]:
        changes = to_domain(data, IncidentPatch)
        return tagged(await _itsm(dcsim).incidents.update(number, changes, _actor(request), if_match))

    @post(
        "/{number:str}/notes",
        status_code=HTTP_201_CREATED,
        summary="Add a work-log note",
        response_headers=ETAG_HEADERS,
        responses=WRITE,
    )
    async def add_note(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[NoteCreate],
        if_match: IfMatch = None,
    ) -> Response[Incident]:
        return tagged(await _itsm(dcsim).incidents.add_note(number, data.text, _actor(request), if_match))

    @post(
        "/{number:str}/{action:str}",
        status_code=HTTP_200_OK,
        response_headers=ETAG_HEADERS,
        responses=ACT,
        summary="Workflow action: start, hold, resume, resolve, close, reopen or cancel",
    )
    async def incident_action(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        action: FromPath[str],
        data: ActionBody = None,
        if_match: IfMatch = None,
    ) -> Response[Incident]:
        incident = await _itsm(dcsim).incidents.act(number, action, data, _actor(request), if_match)
        return tagged(incident)


class ProblemController(Controller):
    """Problems: investigating > known_error > resolved, with linked incidents."""

    path = "/itsm/problems"
    tags = ["itsm"]

    @get("/", summary="Problems, newest first, filtered and paginated", responses=responses())
    async def list_problems(
        self,
        dcsim: NamedDependency[DcSim],
        states: StateQuery = None,
        incident: TextQuery = None,
        ci: TextQuery = None,
        q: TextQuery = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[Problem]:
        found = _itsm(dcsim).problems.query(states=_members(states, ProblemState), incident=incident, ci=ci, q=q)
        return page(found, limit, offset)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Open a problem",
        response_headers=ETAG_HEADERS,
        responses=CREATE,
        middleware=[idempotent],
        operation_class=IdempotentOperation,
    )
    async def create_problem(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[ProblemCreate]
    ) -> Response[Problem]:
        return tagged(await _itsm(dcsim).problems.create(to_domain(data, ProblemRequest), _actor(request)))

    @get("/{number:str}", summary="One problem, with its ETag", response_headers=ETAG_HEADERS, responses=READ)
    async def get_problem(self, dcsim: NamedDependency[DcSim], number: FromPath[str]) -> Response[Problem]:
        return tagged(_itsm(dcsim).problems.get(number))

    @patch(
        "/{number:str}",
        summary="Change a problem's fields or linked incidents (not its state); If-Match: a stale ETag is a 412",
        response_headers=ETAG_HEADERS,
        responses=WRITE,
    )
    async def patch_problem(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[ProblemChange],
        if_match: IfMatch = None,
    ) -> Response[Problem]:
        changes = to_domain(data, ProblemPatch)
        return tagged(await _itsm(dcsim).problems.update(number, changes, _actor(request), if_match))

    @post(
        "/{number:str}/notes",
        status_code=HTTP_201_CREATED,
        summary="Add a work-log note",
        response_headers=ETAG_HEADERS,
        responses=WRITE,
    )
    async def add_note(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[NoteCreate],
        if_match: IfMatch = None,
    ) -> Response[Problem]:
        return tagged(await _itsm(dcsim).problems.add_note(number, data.text, _actor(request), if_match))

    @post(
        "/{number:str}/{action:str}",
        status_code=HTTP_200_OK,
        summary="Workflow action: known_error, resolve or reopen",
        response_headers=ETAG_HEADERS,
        responses=ACT,
    )
    async def problem_action(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        action: FromPath[str],
        data: ActionBody = None,
        if_match: IfMatch = None,
    ) -> Response[Problem]:
        problem = await _itsm(dcsim).problems.act(number, action, data, _actor(request), if_match)
        return tagged(problem)


class ChangeController(Controller):
    """Changes: draft > pending_approval > approved > scheduled > in_progress > completed / failed."""

    path = "/itsm/changes"
    tags = ["itsm"]

    @get("/", summary="Changes, newest first, filtered and paginated", responses=responses())
    async def list_changes(
        self,
        dcsim: NamedDependency[DcSim],
        states: StateQuery = None,
        type: Annotated[str | None, QueryParameter(max_length=200, description="Types, comma-separated")] = None,
        ci: TextQuery = None,
        q: TextQuery = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[Change]:
        found = _itsm(dcsim).changes.query(
            states=_members(states, ChangeState), types=_members(type, ChangeType), ci=ci, q=q
        )
        return page(found, limit, offset)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Request a change (standard changes are created approved)",
        middleware=[idempotent],
        operation_class=IdempotentOperation,
        response_headers=ETAG_HEADERS,
        responses=CREATE,
    )
    async def create_change(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[ChangeCreate]
    ) -> Response[Change]:
        return tagged(await _itsm(dcsim).changes.create(to_domain(data, ChangeRequest), _actor(request)))

    @get(
        "/{number:str}",
        summary="One change with its approvals, with its ETag",
        response_headers=ETAG_HEADERS,
        responses=READ,
    )
    async def get_change(self, dcsim: NamedDependency[DcSim], number: FromPath[str]) -> Response[Change]:
        return tagged(_itsm(dcsim).changes.get(number))

    @patch(
        "/{number:str}",
        summary="Change a change's fields (its plan only in draft); If-Match: a stale ETag is a 412",
        response_headers=ETAG_HEADERS,
        responses=WRITE,
    )
    async def patch_change(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[ChangeChange],
        if_match: IfMatch = None,
    ) -> Response[Change]:
        changes = to_domain(data, ChangePatch)
        return tagged(await _itsm(dcsim).changes.update(number, changes, _actor(request), if_match))

    @post(
        "/{number:str}/notes",
        status_code=HTTP_201_CREATED,
        summary="Add a work-log note",
        response_headers=ETAG_HEADERS,
        responses=WRITE,
    )
    async def add_note(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        data: JSONBody[NoteCreate],
        if_match: IfMatch = None,
    ) -> Response[Change]:
        return tagged(await _itsm(dcsim).changes.add_note(number, data.text, _actor(request), if_match))

    @post(
        "/{number:str}/{action:str}",
        status_code=HTTP_200_OK,
        response_headers=ETAG_HEADERS,
        responses=ACT,
        summary="Workflow action: submit, approve, reject, schedule, start, complete, fail or cancel "
        "(approve and reject need an admin token)",
    )
    async def change_action(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        number: FromPath[str],
        action: FromPath[str],
        data: ActionBody = None,
        if_match: IfMatch = None,
    ) -> Response[Change]:
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
        responses=responses(404, body=True),
    )
    async def alerts(
        self, dcsim: NamedDependency[DcSim], receiver: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        return await _itsm(dcsim).run_webhook(receiver, data)

    @get("/rules", summary="Automation rules and whether each is enabled", responses=responses())
    async def rules(self, dcsim: NamedDependency[DcSim]) -> list[RuleInfo]:
        return msgspec.convert(_itsm(dcsim).rules.describe(), list[RuleInfo])

    @get("/sla", summary="Response and resolution targets per priority, in seconds", responses=responses())
    async def sla_targets(self, dcsim: NamedDependency[DcSim]) -> SlaTargets:
        targets = {priority: dcsim.call.itsm_sla_targets(priority=priority) for priority in PRIORITIES}
        seconds = {
            priority: {
                "response_seconds": int(target.response.total_seconds()),
                "resolution_seconds": int(target.resolution.total_seconds()),
            }
            for priority, target in targets.items()
        }
        return msgspec.convert(seconds, SlaTargets)

    @get("/workflows", summary="The transition tables: state -> {action: next state}", responses=responses())
    async def workflows(self) -> Workflows:
        return Workflows(
            incident=describe(INCIDENT_TRANSITIONS),
            problem=describe(PROBLEM_TRANSITIONS),
            change=describe(CHANGE_TRANSITIONS),
        )


HANDLERS = (IncidentController, ProblemController, ChangeController, ItsmController)
