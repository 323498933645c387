"""The ``/patch`` REST API: compliance and scans, policies, runs, advisories."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from dcsim.app import DcSim
from dcsim.convert import from_json, to_json
from dcsim.errors import Conflict, InvalidInput, NotFound
from dcsim.patch.compliance import finish, roll_up
from dcsim.patch.model import CiPatchState, Policy, Run
from dcsim.patch.schemas import (
    AdvisoryOut,
    CiPatchStateOut,
    ComplianceReport,
    ComplianceSummary,
    PolicyIn,
    PolicyOut,
    RollUp,
    RunIn,
    RunOut,
    ScanIn,
    ScanOut,
)
from dcsim.patch.service import PatchService
from dcsim.web.contracts import LimitQuery, OffsetQuery, Page, page, responses

Filter = Annotated[str | None, QueryParameter(max_length=200)]


def _patch(dcsim: DcSim) -> PatchService:
    return dcsim.services.get(PatchService)


def _state(state: CiPatchState) -> CiPatchStateOut:
    data = to_json(state)
    data["pending_by_severity"] = dict(Counter(p.severity for p in state.pending_patches))
    data["stale"] = PatchService.stale(state)
    return msgspec.convert(data, CiPatchStateOut)


def _policy(patch: PatchService, policy: Policy) -> PolicyOut:
    data = to_json(policy) | {"next_run_at": patch.due_at(policy.id)}
    return msgspec.convert(data, PolicyOut)


def _run(run: Run) -> RunOut:
    return msgspec.convert(to_json(run) | {"correlation_id": run.correlation_id}, RunOut)


def _roll_ups(groups: dict[str, dict[str, Any]]) -> dict[str, RollUp]:
    return {name: msgspec.convert(group, RollUp) for name, group in groups.items()}


async def _states(patch: PatchService, os: str | None, env: str | None, status: str | None) -> list[CiPatchState]:
    """The CIs' states (scanned once first), by name, filtered."""
    await patch.ensure_scanned()
    states = list(patch.states.values())
    # Sorting and filtering 10,000 states, and the roll-ups and answers made of them, run
    # in a worker thread so the event loop keeps serving other requests meanwhile.
    return await asyncio.to_thread(_chosen, states, os, env, status)


def _chosen(states: list[CiPatchState], os: str | None, env: str | None, status: str | None) -> list[CiPatchState]:
    return [s for s in sorted(states, key=lambda s: s.ci_name)
            if (os is None or s.os_type == os) and (env is None or s.env == env)
            and (status is None or s.compliance_status.value == status)]  # fmt: skip


def _report(states: list[CiPatchState]) -> ComplianceReport:
    summary = _summary(states)
    return ComplianceReport(summary=summary.summary, by_policy=summary.by_policy, by_env=summary.by_env,
                            by_os=summary.by_os, cis=[_state(s) for s in states])  # fmt: skip


def _summary(states: list[CiPatchState]) -> ComplianceSummary:
    everything = roll_up(states, lambda _: "all").get("all") or finish(
        {"total": 0, "compliant": 0, "non_compliant": 0, "unknown": 0, "cves": set()}
    )
    return ComplianceSummary(
        summary=msgspec.convert(everything, RollUp),
        by_policy=_roll_ups(roll_up(states, lambda s: s.policy)),
        by_env=_roll_ups(roll_up(states, lambda s: s.env)),
        by_os=_roll_ups(roll_up(states, lambda s: s.os_type)),
    )


class ComplianceController(Controller):
    """Compliance of every patchable CI against the advisories, and scans."""

    path = "/patch/compliance"
    tags = ["patch"]

    @get("/", summary="Compliance of the estate, rolled up by policy, env and OS", responses=responses())
    async def report(
        self, dcsim: NamedDependency[DcSim], os: Filter = None, env: Filter = None, status: Filter = None
    ) -> ComplianceReport:
        return await asyncio.to_thread(_report, await _states(_patch(dcsim), os, env, status))

    @get("/summary", summary="The roll-ups alone, without each CI's state", responses=responses())
    async def summary(
        self, dcsim: NamedDependency[DcSim], os: Filter = None, env: Filter = None, status: Filter = None
    ) -> ComplianceSummary:
        # A dashboard's figure: the full report of a 10,000-CI estate is some 17 MB.
        return await asyncio.to_thread(_summary, await _states(_patch(dcsim), os, env, status))

    @post("/scan", status_code=HTTP_200_OK, summary="Scan CIs now (all by default)",
          responses=responses(404, body=True))  # fmt: skip
    async def scan(self, dcsim: NamedDependency[DcSim], data: JSONBody[ScanIn | None] = None) -> ScanOut:
        patch = _patch(dcsim)
        states = await patch.scan(data.ci_ids if data else None)
        return ScanOut(scanned=len(states), compliance_pct=patch.compliance_pct(), cis=[_state(s) for s in states])

    @get("/{ci_id:str}", summary="The patch state of one CI (by id or name)", responses=responses(404))
    async def one(self, dcsim: NamedDependency[DcSim], ci_id: FromPath[str]) -> CiPatchStateOut:
        patch = _patch(dcsim)
        await patch.ensure_scanned()
        return _state(patch.state_of(ci_id))


class PatchPolicyController(Controller):
    """Patch policies: which CIs, to what level, when and how."""

    path = "/patch/policies"
    tags = ["patch"]

    @get("/", summary="Patch policies", responses=responses())
    async def list_policies(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[PolicyOut]:
        patch = _patch(dcsim)
        return page([_policy(patch, p) for p in sorted(patch.policies.values(), key=lambda p: p.id)], limit, offset)

    @post("/", status_code=HTTP_201_CREATED, summary="Create a patch policy", responses=responses(409, body=True))
    async def create_policy(self, dcsim: NamedDependency[DcSim], data: JSONBody[PolicyIn]) -> PolicyOut:
        patch = _patch(dcsim)
        if data.id in patch.policies:
            raise Conflict(f"patch policy {data.id!r} exists")
        return _policy(patch, await patch.save_policy(from_json(msgspec.to_builtins(data), Policy)))

    @get("/{policy_id:str}", summary="One patch policy", responses=responses(404))
    async def get_policy(self, dcsim: NamedDependency[DcSim], policy_id: FromPath[str]) -> PolicyOut:
        patch = _patch(dcsim)
        return _policy(patch, patch.policy(policy_id))

    @put("/{policy_id:str}", summary="Replace a patch policy", responses=responses(404, body=True))
    async def replace_policy(
        self, dcsim: NamedDependency[DcSim], policy_id: FromPath[str], data: JSONBody[PolicyIn]
    ) -> PolicyOut:
        if data.id != policy_id:
            raise InvalidInput("the body's id is the path's", errors=[{"field": "id", "message": "must be the path's"}])
        patch = _patch(dcsim)
        patch.policy(policy_id)
        return _policy(patch, await patch.save_policy(from_json(msgspec.to_builtins(data), Policy)))

    @delete("/{policy_id:str}", status_code=HTTP_204_NO_CONTENT, summary="Delete a patch policy",
            responses=responses(404))  # fmt: skip
    async def delete_policy(self, dcsim: NamedDependency[DcSim], policy_id: FromPath[str]) -> None:
        await _patch(dcsim).delete_policy(policy_id)


class PatchRunController(Controller):
    """Patch runs: started now or by a policy's schedule, followed step by step."""

    path = "/patch/runs"
    tags = ["patch"]

    @get("/", summary="Patch runs, newest first", responses=responses())
    async def list_runs(
        self, dcsim: NamedDependency[DcSim], policy: Filter = None, limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[RunOut]:
        runs = sorted(_patch(dcsim).runs.values(), key=lambda r: r.created_at, reverse=True)
        return page([_run(r) for r in runs if policy is None or r.policy == policy], limit, offset)

    @post("/", status_code=HTTP_202_ACCEPTED, summary="Start a run of a policy now",
          responses=responses(404, body=True))  # fmt: skip
    async def start_run(self, dcsim: NamedDependency[DcSim], data: JSONBody[RunIn]) -> RunOut:
        return _run(await _patch(dcsim).start_run(data.policy, "api"))

    @get("/{run_id:str}", summary="One patch run", responses=responses(404))
    async def get_run(self, dcsim: NamedDependency[DcSim], run_id: FromPath[str]) -> RunOut:
        return _run(_patch(dcsim).run(run_id))

    @post("/{run_id:str}/cancel", status_code=HTTP_202_ACCEPTED, summary="Cancel a run before its next batch",
          responses=responses(404, 409))  # fmt: skip
    async def cancel_run(self, dcsim: NamedDependency[DcSim], run_id: FromPath[str]) -> RunOut:
        return _run(await _patch(dcsim).cancel_run(run_id))


class AdvisoryController(Controller):
    """Advisories: the bundled data file and plugins' feeds."""

    path = "/patch/advisories"
    tags = ["patch"]

    @get("/", summary="Advisories, most severe first", responses=responses())
    async def list_advisories(
        self, dcsim: NamedDependency[DcSim], severity: Filter = None, os: Filter = None,
        limit: LimitQuery = 100, offset: OffsetQuery = 0,
    ) -> Page[AdvisoryOut]:  # fmt: skip
        patch = _patch(dcsim)
        chosen = [a for a in patch.advisories.values()
                  if (severity is None or a.severity == severity) and (os is None or a.fixes(os))]  # fmt: skip
        chosen.sort(key=lambda a: (-a.cvss, a.id))
        return page([_advisory(patch, a.id) for a in chosen], limit, offset)

    @get("/{cve_id:str}", summary="One advisory", responses=responses(404))
    async def get_advisory(self, dcsim: NamedDependency[DcSim], cve_id: FromPath[str]) -> AdvisoryOut:
        return _advisory(_patch(dcsim), cve_id)


def _advisory(patch: PatchService, advisory_id: str) -> AdvisoryOut:
    advisory = patch.advisories.get(advisory_id)
    if advisory is None:
        raise NotFound(f"no advisory {advisory_id!r}")
    cis = sorted(s.ci_id for s in patch.states.values() if any(p.advisory == advisory_id for p in s.pending_patches))
    return msgspec.convert(to_json(advisory) | {"affected_cis": cis}, AdvisoryOut)


HANDLERS = [ComplianceController, PatchPolicyController, PatchRunController, AdvisoryController]
