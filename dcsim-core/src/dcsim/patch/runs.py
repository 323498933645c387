"""A patch run's lifecycle: plan > validate > snapshot > execute > verify > report > alert.

- plan: the policy's CIs (OS and tag selector) from the CMDB;
- validate: each CI needs a change that authorises work on it now (ITSM's rule "patch
  run requires an approved change"); a CI without one is skipped and reported;
- snapshot: the package inventory is kept, and a VM is snapshotted in the simulation;
- execute: batches of at most ``max_parallel`` CIs, each a ``patch.scheduled`` the
  runner's ``patch-runs`` trigger turns into ``patch-rhel`` / ``patch-ubuntu`` (or the
  policy's playbook), answered by ``ansible.run.completed`` with the same correlation id;
- verify: the CIs are scanned again; patched means compliant with the policy now;
- report: each change is completed (all its CIs patched) or failed;
- alert: an incident for each failed CI, and a rollback to the snapshot where the policy
  says so (the VM's snapshot reverted, the inventory put back through the runner).

Each step is announced to ``dcsim_patch_run_step``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from dcsim.convert import to_json
from dcsim.errors import DcsimError
from dcsim.model import utcnow
from dcsim.patch.compliance import selects
from dcsim.patch.model import CiRunState, Compliance, Policy, Run, RunCi, RunState, Step, covered
from dcsim.patch.service import SOURCE, PatchService

if TYPE_CHECKING:
    from dcsim.itsm.service import Itsm

log = structlog.get_logger(__name__)

ROLLBACK_PLAYBOOK = "remediate-package-drift"


class RunPipeline:
    """Drives one run from its plan to its end."""

    def __init__(self, patch: PatchService, run: Run, policy: Policy) -> None:
        self.patch = patch
        self.run = run
        self.policy = policy

    @property
    def _itsm(self) -> Itsm | None:
        from dcsim.itsm.service import Itsm

        return self.patch.dcsim.services.find(Itsm)

    async def drive(self) -> None:
        """Every step in order; an unexpected error fails the run (and is logged)."""
        run = self.run
        await self.patch.dcsim.publish("patch.run.started", {"run_id": run.id, "policy": run.policy},
                                       source=SOURCE, subject=f"patch/runs/{run.id}")  # fmt: skip
        try:
            for step, state, action in (
                ("plan", RunState.PLANNING, self.plan), ("validate", RunState.VALIDATING, self.validate),
                ("snapshot", RunState.SNAPSHOTTING, self.snapshot), ("execute", RunState.EXECUTING, self.execute),
                ("verify", RunState.VERIFYING, self.verify), ("report", RunState.REPORTING, self.report),
                ("alert", RunState.ALERTING, self.alert),
            ):  # fmt: skip
                await self._enter(step, state)
                await action()
            failed = any(ci.state in (CiRunState.FAILED, CiRunState.ROLLED_BACK) for ci in run.cis)
            cancelled = run.id in self.patch.cancelled
            end = RunState.CANCELLED if cancelled else RunState.FAILED if failed else RunState.COMPLETED
        except Exception as exc:
            log.exception("patch.run_failed", run_id=run.id)
            run.summary["reason"] = f"{type(exc).__name__}: {exc}"
            end = RunState.FAILED
        await self._finish(end)

    async def _enter(self, step: str, state: RunState, note: str = "") -> None:
        self.run.state = state
        self.run.steps.append(Step(name=step, at=utcnow(), note=note))
        await self.patch.save_run(self.run)
        try:
            self.patch.dcsim.plugins.notify("dcsim_patch_run_step", run=to_json(self.run), step=step)
        except Exception:
            log.exception("patch.run_step_hook_failed", run_id=self.run.id, step=step)

    async def _finish(self, end: RunState) -> None:
        run = self.run
        for ci in run.cis:
            if ci.state in (CiRunState.PLANNED, CiRunState.READY):
                ci.state, ci.reason = CiRunState.CANCELLED, ci.reason or "the run was cancelled"
        counts: dict[str, int] = {}
        for ci in run.cis:
            counts[ci.state.value] = counts.get(ci.state.value, 0) + 1
        run.summary |= {"cis": len(run.cis), **counts}
        run.finished_at = utcnow()
        await self._enter(end.value, end)
        self.patch.cancelled.discard(run.id)
        data = {"run_id": run.id, "policy": run.policy, "state": end.value, "summary": run.summary,
                "skipped": [ci.ci_id for ci in run.cis if ci.state is CiRunState.SKIPPED],
                "failed": [ci.ci_id for ci in run.cis if ci.state in (CiRunState.FAILED, CiRunState.ROLLED_BACK)]}  # fmt: skip
        await self.patch.dcsim.publish("patch.run.completed", data, source=SOURCE, subject=f"patch/runs/{run.id}")

    def _live(self, *states: CiRunState) -> list[RunCi]:
        return [ci for ci in self.run.cis if ci.state in states]

    # Steps ---------------------------------------------------------------------------------

    async def plan(self) -> None:
        """The policy's CIs: its OS, and every tag of its selector."""
        cis = [ci for ci in await self.patch.patchable_cis()
               if ci.tags.get("os") == self.policy.os_type and selects(self.policy, ci.tags)]  # fmt: skip
        self.run.cis = [RunCi(ci_id=ci.id, ci_name=ci.name, node=str(ci.attributes["node"]))
                        for ci in sorted(cis, key=lambda c: c.name)]  # fmt: skip
        chosen = [a for a in self.patch.advisories.values()
                  if a.fixes(self.policy.os_type) and covered(a, self.policy.patch_level)]  # fmt: skip
        self.run.advisories = sorted(a.id for a in chosen)

    async def validate(self) -> None:
        """Keep the CIs an approved change covers now; skip and report the others."""
        itsm, now = self._itsm, utcnow()
        for ci in self._live(CiRunState.PLANNED):
            change = await itsm.changes.approved_for(ci.ci_id, now) if itsm is not None else None
            if change is None:
                ci.state = CiRunState.SKIPPED
                ci.reason = "no approved change covers this CI now" if itsm else "ITSM is off: nothing can approve"
            else:
                ci.state, ci.change = CiRunState.READY, change.number

    async def snapshot(self) -> None:
        """Keep each CI's package inventory; snapshot VMs in the simulation when the policy asks."""
        sim = self.patch.dcsim.sim
        for ci in self._live(CiRunState.READY):
            assert ci.node is not None
            ci.snapshot_packages = await sim.nodes.packages(ci.node)
            if not self.policy.pre_patch_snapshot:
                continue
            source = await self._source_id(ci.ci_id)
            try:
                vm = sim.vm(source) if source else None
            except DcsimError:
                vm = None
            if vm is not None:
                taken = await sim.create_snapshot(vm.id, f"pre-patch-{self.run.id[:8]}", f"patch run {self.run.id}")
                ci.snapshot = taken.id
            else:
                # Not a VM (a bare-metal host): the kept inventory is its snapshot.
                ci.snapshot = f"inventory:{self.run.id}"

    async def execute(self) -> None:
        """Batches of at most ``max_parallel`` CIs through the runner, one at a time."""
        chosen = [a for a in self.patch.advisories.values() if a.id in self.run.advisories]
        advisories = [{"id": a.id, "package": fix.package, "fixed_version": fix.fixed_version, "severity": a.severity}
                      for a in chosen for fix in a.fixes(self.policy.os_type)]  # fmt: skip
        await self._start_changes()
        ready = self._live(CiRunState.READY)
        size = max(1, self.policy.max_parallel)
        for number, start in enumerate(range(0, len(ready), size), 1):
            if self.run.id in self.patch.cancelled:
                for ci in ready[start:]:
                    ci.state, ci.reason = CiRunState.CANCELLED, "the run was cancelled before its batch"
                return
            batch = ready[start : start + size]
            for ci in batch:
                ci.state = CiRunState.PATCHING
            await self.patch.save_run(self.run)
            data: dict[str, Any] = {
                "run_id": self.run.id, "policy": self.policy.id, "os": self.policy.os_type,
                "targets": [ci.ci_id for ci in batch],
                "extra_vars": {"patch_advisories": advisories, "patch_reboot": self.policy.reboot_required,
                               "patch_max_parallel": size},
            }  # fmt: skip
            if self.policy.playbook:
                data["playbook"] = self.policy.playbook
            result = await self.patch.request(f"{self.run.correlation_id}:batch-{number}", data)
            given = result.get("stats")
            stats: dict[str, Any] = given if isinstance(given, dict) else {}
            for ci in batch:
                ci.ansible_run = str(result.get("run_id") or "") or None
                host = stats.get(ci.node or "") or {}
                failed = bool(host.get("failures") or host.get("unreachable"))
                if result.get("status") != "successful" or failed:
                    ci.state = CiRunState.FAILED
                    ci.reason = f"runner run {ci.ansible_run} ended {result.get('status')}: {result.get('reason')}"

    async def verify(self) -> None:
        """Scan the patched CIs again: patched means compliant with the policy now."""
        patching = self._live(CiRunState.PATCHING)
        if not patching:
            return
        states = {s.ci_id: s for s in await self.patch.scan([ci.ci_id for ci in patching])}
        for ci in patching:
            state = states[ci.ci_id]
            before = ci.snapshot_packages or {}
            ci.patched = {name: version for name, version in state.installed.items() if before.get(name) != version}
            if state.compliance_status is Compliance.COMPLIANT:
                ci.state = CiRunState.PATCHED
                state.last_patched = utcnow()
                await self.patch._save_state(state)
            else:
                ci.state = CiRunState.FAILED
                pending = ", ".join(p.advisory for p in state.pending_patches)
                ci.reason = f"still non-compliant after patching ({pending})"

    async def report(self) -> None:
        """Complete each change whose CIs were all patched; fail the others."""
        itsm = self._itsm
        if itsm is None:
            return
        for number in sorted({ci.change for ci in self.run.cis if ci.change}):
            mine = [ci for ci in self.run.cis if ci.change == number and ci.state is not CiRunState.SKIPPED]
            if not mine or any(ci.state is CiRunState.CANCELLED for ci in mine):
                continue
            ok = all(ci.state is CiRunState.PATCHED for ci in mine)
            body = {"close_notes": f"patched by run {self.run.id}"} if ok else {
                "reason": f"patch run {self.run.id} failed on {', '.join(ci.ci_name for ci in mine if ci.state is not CiRunState.PATCHED)}"}  # fmt: skip
            try:
                await itsm.changes.act(number, "complete" if ok else "fail", body, f"rule:{SOURCE}")
            except DcsimError as exc:
                log.warning("patch.change_not_closed", change=number, error=str(exc))

    async def alert(self) -> None:
        """An incident for each failed CI; a rollback to its snapshot when the policy says so."""
        for ci in self._live(CiRunState.FAILED):
            if self.policy.rollback_on_failure and ci.snapshot_packages is not None:
                await self._roll_back(ci)
            await self._incident(ci)

    # Helpers ---------------------------------------------------------------------------

    async def _source_id(self, ci_id: str) -> str | None:
        from dcsim.cmdb.service import Cmdb

        cmdb = self.patch.dcsim.services.find(Cmdb)
        if cmdb is None:
            return None
        ci = await cmdb.backend.get_ci(ci_id)
        return ci.source_id

    async def _start_changes(self) -> None:
        """Move each change of the run to in progress (schedule, then start)."""
        itsm = self._itsm
        if itsm is None:
            return
        for number in sorted({ci.change for ci in self._live(CiRunState.READY) if ci.change}):
            for action in ("schedule", "start"):
                state = itsm.changes.get(number).state.value
                if (action, state) in (("schedule", "approved"), ("start", "scheduled")):
                    await itsm.changes.act(number, action, {} if action == "start" else None, f"rule:{SOURCE}")

    async def _roll_back(self, ci: RunCi) -> None:
        sim = self.patch.dcsim.sim
        if ci.snapshot and not ci.snapshot.startswith("inventory:"):
            source = await self._source_id(ci.ci_id)
            if source:
                await sim.revert_snapshot(source, ci.snapshot)
        assert ci.node is not None and ci.snapshot_packages is not None
        current = await sim.nodes.packages(ci.node)
        desired: dict[str, str | None] = {name: None for name in current if name not in ci.snapshot_packages}
        desired |= ci.snapshot_packages
        data = {"run_id": self.run.id, "policy": self.policy.id, "os": self.policy.os_type,
                "targets": [ci.ci_id], "playbook": ROLLBACK_PLAYBOOK,
                "extra_vars": {"target": ci.node, "drift_field": "packages", "drift_desired": desired}}  # fmt: skip
        result = await self.patch.request(f"{self.run.correlation_id}:rollback-{ci.ci_id}", data)
        if result.get("status") == "successful":
            ci.state = CiRunState.ROLLED_BACK
            ci.reason = f"{ci.reason}; rolled back to the snapshot"
        else:
            ci.reason = f"{ci.reason}; rollback run ended {result.get('status')}"
        await self.patch.scan([ci.ci_id])

    async def _incident(self, ci: RunCi) -> None:
        from dcsim.itsm.model import IncidentRequest

        itsm = self._itsm
        if itsm is None:
            return
        request = IncidentRequest(
            title=f"Patching {ci.ci_name} failed (policy {self.policy.id})",
            description=f"Patch run {self.run.id}: {ci.reason}.",
            impact=2, urgency=2, affected_cis=[ci.ci_id], correlation_id=self.run.correlation_id,
        )  # fmt: skip
        incident = await itsm.incidents.create(request, f"rule:{SOURCE}", source_data={"patch_run": self.run.id})
        ci.incident = incident.number
