"""The ``/ansible`` API (SPEC-013): runs, their events and stdout, playbooks, inventory, triggers.

Operators run and cancel playbooks and switch triggers; viewers read (core's role rule:
reads need viewer, writes operator).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from dcsim.app import DcSim
from dcsim.model import Token
from dcsim.web.contracts import LimitQuery, OffsetQuery, Page, page, responses
from dcsim.web.idempotency import IdempotentOperation, idempotent
from dcsim_ansible.records import Playbook, Run, RunCreate, RunEvent, RunOutput, RunStatus, Trigger, TriggerChange
from dcsim_ansible.service import AnsibleRunner

PlaybookFilter = Annotated[str | None, QueryParameter(max_length=80, description="runs of this playbook")]
TriggerFilter = Annotated[
    str | None, QueryParameter(max_length=120, description="api, or the event type that started the run")
]
TimeFilter = Annotated[datetime | None, QueryParameter(description="RFC 3339 time; runs created since/until then")]


def _runner(dcsim: DcSim) -> AnsibleRunner:
    runner: AnsibleRunner = dcsim.services["ansible"]
    return runner


def _actor(request: Request[Any, Any, Any]) -> str:
    token: Token = request.scope["state"]["token"]
    return f"token:{token.name}"


class AnsibleController(Controller):
    """Playbook runs and what they need."""

    path = "/ansible"
    tags = ["ansible"]

    @post(
        "/run",
        status_code=HTTP_202_ACCEPTED,
        summary="Run a playbook (queued for a worker)",
        responses=responses(404, body=True),
        middleware=[idempotent],
        operation_class=IdempotentOperation,
    )
    async def run(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[RunCreate]
    ) -> Run:
        return await _runner(dcsim).request(data, actor=_actor(request))

    @get("/runs", summary="Runs, newest first", responses=responses())
    async def list_runs(
        self,
        dcsim: NamedDependency[DcSim],
        status: FromQuery[RunStatus | None] = None,
        playbook: PlaybookFilter = None,
        trigger: TriggerFilter = None,
        since: TimeFilter = None,
        until: TimeFilter = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[Run]:
        runs = await _runner(dcsim).list(status=status, playbook=playbook, trigger=trigger, since=since, until=until)
        return page(runs, limit, offset)

    @get("/runs/{run_id:str}", summary="One run: status, rc, stats, changed tasks", responses=responses(404))
    async def get_run(self, dcsim: NamedDependency[DcSim], run_id: FromPath[str]) -> Run:
        return await _runner(dcsim).get(run_id)

    @get("/runs/{run_id:str}/events", summary="A run's events in order", responses=responses(404))
    async def run_events(
        self, dcsim: NamedDependency[DcSim], run_id: FromPath[str], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[RunEvent]:
        runner = _runner(dcsim)
        await runner.get(run_id)
        items, total = await asyncio.to_thread(runner.runbook.events, run_id, limit, offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/runs/{run_id:str}/stdout", summary="A run's output, secrets redacted", responses=responses(404))
    async def run_stdout(self, dcsim: NamedDependency[DcSim], run_id: FromPath[str]) -> RunOutput:
        return await asyncio.to_thread(_runner(dcsim).runbook.stdout, run_id)

    @post(
        "/runs/{run_id:str}/cancel",
        status_code=HTTP_202_ACCEPTED,
        summary="Cancel a run (queued: at once; running: its worker stops it)",
        responses=responses(404, 409),
    )
    async def cancel(self, dcsim: NamedDependency[DcSim], run_id: FromPath[str]) -> Run:
        return await _runner(dcsim).cancel(run_id)

    @get(
        "/inventory",
        summary="The CMDB's Ansible inventory as runs get it",
        description="Ansible's own dynamic-inventory document (an open object: groups and `_meta.hostvars`).",
        responses=responses(),
    )
    async def inventory(self, dcsim: NamedDependency[DcSim]) -> dict[str, Any]:
        return await _runner(dcsim).inventory()

    @get("/playbooks", summary="Runnable playbooks and what their headers say", responses=responses())
    async def playbooks(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[Playbook]:
        return page(_runner(dcsim).catalogue.list(), limit, offset)

    @get("/triggers", summary="Event trigger rules", responses=responses())
    async def triggers(self, dcsim: NamedDependency[DcSim]) -> list[Trigger]:
        triggers = _runner(dcsim).triggers
        return await triggers.list() if triggers else []

    @patch(
        "/triggers/{name:str}",
        status_code=HTTP_200_OK,
        summary="Switch a trigger rule on or off",
        responses=responses(404, body=True),
    )
    async def switch_trigger(
        self, dcsim: NamedDependency[DcSim], name: FromPath[str], data: JSONBody[TriggerChange]
    ) -> Trigger:
        triggers = _runner(dcsim).triggers
        assert triggers is not None
        return await triggers.switch(name, data.enabled)
