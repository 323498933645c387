"""The patch service: advisories, compliance of every CI, policies, schedules and runs.

Compliance comes from each CI's node: its package inventory against the advisories
(bundled, plus every ``dcsim_patch_register_advisory_feeds`` feed), versions ordered by
``dcsim_patch_compare_versions``. Runs (:mod:`dcsim.patch.runs`) hand the patching to
the runner: they publish ``patch.scheduled`` and wait for the ``ansible.run.completed``
with the same correlation id. A policy's schedule arms one timer to its next due time;
nothing polls.

Several processes on one store (SPEC-018): policies, states and runs other processes
write reach this one through the change feed (``dcsim.store.changes``), re-arming
timers; a due schedule starts one run, in the process that takes the store lease
``patch-schedule:<digest of the policy id>``; a runner's answer handled by another process of the
subscriber group is handed over as a ``result/<correlation id>`` document; and a run
left unfinished is failed at start only when the process driving it (which holds the
lease ``patch-run:<run id>`` while it does) is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from dcsim.convert import from_json, to_json
from dcsim.errors import DcsimError, InvalidInput, NotFound, ServiceUnavailable
from dcsim.model import utcnow
from dcsim.patch import advisories as feeds
from dcsim.patch.compliance import applicable, assess, governing_policy, os_family
from dcsim.patch.model import FINAL_RUN_STATES, Advisory, CiPatchState, Compliance, Policy, Run, RunState

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.cmdb.model import Ci
    from dcsim.model import Event
    from dcsim.settings import Settings
    from dcsim.store.changes import Update

log = structlog.get_logger(__name__)

NAMESPACE = "patch"
SOURCE = "dcsim.patch"
#: How long a run waits for the runner's answer to one request.
RUN_TIMEOUT = timedelta(minutes=15)
#: A scan lets other work of the event loop in after this many seconds of assessing.
SCAN_SLICE_SECONDS = 0.005
#: A scan older than this is stale.
STALE_AFTER = timedelta(hours=24)
REBOOT_MARK = "/var/run/reboot-required"
#: Seconds a schedule's lease is held: longer than timers of processes disagree, shorter than any period.
SCHEDULE_LEASE_SECONDS = 30.0
#: A driving process renews its lease this often, for three times as long.
DRIVER_RENEW_SECONDS = 10.0


def seed_policies() -> list[Policy]:
    """The policies of a fresh store: one baseline per OS of the seed, scheduled weekly."""
    return [
        Policy(id="policy-rhel9-baseline", name="RHEL 9 baseline", os_type="rhel9", schedule="0 2 * * 6",
               patch_level="high", max_parallel=2, reboot_required=True),
        Policy(id="policy-ubuntu22-baseline", name="Ubuntu 22.04 baseline", os_type="ubuntu22",
               schedule="0 3 * * 6", patch_level="high", max_parallel=2),
    ]  # fmt: skip


def next_due(schedule: str, after: datetime) -> datetime:
    """The first time after ``after`` that the cron expression ``schedule`` names."""
    from croniter import croniter  # type: ignore[import-untyped]

    due: datetime = croniter(schedule, after).get_next(datetime)
    return due


def check_schedule(schedule: str | None) -> None:
    """InvalidInput unless ``schedule`` is None or a cron expression."""
    from croniter import croniter

    if schedule is None:
        return
    try:
        # Valid and due some day (``0 0 31 2 *`` is valid and never due).
        valid = croniter.is_valid(schedule) and next_due(schedule, utcnow()) is not None
    except (ValueError, KeyError, ArithmeticError):
        valid = False
    if not valid:
        raise InvalidInput(f"{schedule!r} is not a cron expression that ever falls due",
                           errors=[{"field": "schedule", "message": "a cron expression such as '0 2 * * 6'"}])  # fmt: skip


class PatchService:
    """Patch management of one instance."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.feeds = feeds.AdvisoryFeedRegistry()
        self.advisories: dict[str, Advisory] = {}
        self.policies: dict[str, Policy] = {}
        self.states: dict[str, CiPatchState] = {}
        self.runs: dict[str, Run] = {}
        self.scanned_once = False
        self._dcsim: DcSim | None = None
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._due_times: dict[str, datetime] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.cancelled: set[str] = set()
        self.lock = asyncio.Lock()
        self.run_timeout = RUN_TIMEOUT
        self._versions: dict[str, int] = {}
        self._driver: asyncio.Task[None] | None = None
        self._first_scan: asyncio.Task[list[CiPatchState]] | None = None
        self._orders: dict[tuple[str, str, str], int] = {}

    @property
    def dcsim(self) -> DcSim:
        if self._dcsim is None:
            raise ServiceUnavailable("patch has not started")
        return self._dcsim

    async def start(self, dcsim: DcSim) -> None:
        """Collect feeds; load policies (the seed's on a fresh store), states and runs; arm schedules."""
        self._dcsim = dcsim
        dcsim.plugins.register_each("dcsim_patch_register_advisory_feeds", registry=self.feeds)
        self.advisories = feeds.collect(self.feeds)
        # Before the read: a write committed meanwhile is applied again, never missed.
        dcsim.changes.follow([NAMESPACE], self._apply)
        if dcsim.changes.active:
            self._driver = asyncio.get_running_loop().create_task(self._hold_driver_lease())
        documents = await asyncio.to_thread(dcsim.store.list, NAMESPACE)
        for document in documents:
            self._take(document.key, document.value, document.version)
        if not any(document.key.startswith("policy/") for document in documents):
            for policy in seed_policies():
                await self.save_policy(policy)
        for run in list(self.runs.values()):
            if run.state not in FINAL_RUN_STATES and not await self._driven_elsewhere(run):
                # The task that drove it died with the last process.
                run.state, run.finished_at = RunState.FAILED, utcnow()
                run.summary["reason"] = "interrupted by a restart"
                await self.save_run(run)
        for policy in self.policies.values():
            self.arm(policy)

    def _take(self, name: str, value: dict[str, Any] | None, version: int) -> bool:
        """Hold document ``name`` (None: deleted) unless an equal or newer version is held."""
        if value is not None and version <= self._versions.get(name, 0):
            return False
        self._versions[name] = version
        kind, _, key = name.partition("/")
        maps: dict[str, dict[str, Any]] = {"policy": self.policies, "state": self.states, "run": self.runs}
        held = maps.get(kind, {})
        cls: Any = {"policy": Policy, "state": CiPatchState, "run": Run}.get(kind)
        if cls is not None:
            held.pop(key, None)
            if value is not None:
                held[key] = from_json(value, cls)
        return True

    def _apply(self, updates: list[Update]) -> None:
        """Take what other processes wrote (the change feed's callback)."""
        for update in updates:
            document = update.document
            kind, _, key = update.key.partition("/")
            if kind == "result":
                waiter = self._waiters.get(key)
                if document is not None and waiter is not None and not waiter.done():
                    waiter.set_result(dict(document.value))
                continue
            taken = self._take(
                update.key, None if document is None else document.value, document.version if document else 0
            )
            if kind == "policy" and taken:
                policy = self.policies.get(key)
                if policy is not None:
                    self.arm(policy)
                elif (timer := self._timers.pop(key, None)) is not None:
                    timer.cancel()

    async def _put(self, name: str, value: dict[str, Any]) -> None:
        document = await asyncio.to_thread(self.dcsim.store.put, NAMESPACE, name, value)
        self._versions[name] = max(self._versions.get(name, 0), document.version)

    async def _hold_driver_lease(self) -> None:
        """Renew the lease of every run this process drives, so others know it is alive."""
        while True:
            await asyncio.sleep(DRIVER_RENEW_SECONDS)
            for run_id in list(self._tasks):
                await self._lease_run(run_id)

    async def _lease_run(self, run_id: str) -> None:
        store = self.dcsim.store
        try:
            await asyncio.to_thread(store.take_lease, f"patch-run:{run_id}", store.origin, 3 * DRIVER_RENEW_SECONDS)
        except DcsimError:
            log.warning("patch.run_lease_failed", run=run_id, exc_info=True)

    async def _driven_elsewhere(self, run: Run) -> bool:
        """True when another live process drives ``run`` (it holds the run's lease)."""
        store = self.dcsim.store
        if not self.dcsim.changes.active:
            return False
        name = f"patch-run:{run.id}"
        if await asyncio.to_thread(store.take_lease, name, store.origin, 1.0):
            # Free or expired: the process that drove it is gone. Let the lease go at once.
            await asyncio.to_thread(store.drop_lease, name, store.origin)
            return False
        return True

    async def close(self) -> None:
        """Disarm schedules and stop runs and a first scan in flight."""
        for task in (self._driver, self._first_scan):
            if task is not None:
                task.cancel()
        self._driver = self._first_scan = None
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    # Versions and CIs ------------------------------------------------------------------

    def compare(self, os_type: str, installed: str, candidate: str) -> int:
        """Order two versions of a package of ``os_type`` (``dcsim_patch_compare_versions``,
        asked once per scan for each distinct comparison: a generated estate's nodes share
        a few inventories, and the hook was three quarters of a 10,000-CI scan's time)."""
        key = (os_type, installed, candidate)
        order = self._orders.get(key)
        if order is None:
            order = self._orders[key] = self.dcsim.call.patch_compare_versions(
                os_family=os_family(os_type), installed=installed, candidate=candidate
            )
        return order

    async def patchable_cis(self) -> list[Ci]:
        """The active CIs with a node and an OS tag (what can be scanned and patched)."""
        from dcsim.cmdb.backend import CiQuery
        from dcsim.cmdb.service import Cmdb

        cmdb = self.dcsim.services.find(Cmdb)
        if cmdb is None:
            return []
        found: list[Ci] = []
        offset = 0
        while True:
            # Large pages (a listing sorts every CI), and the loop let in between them.
            total, cis = await cmdb.backend.list_cis(CiQuery(limit=2000, offset=offset))
            found.extend(ci for ci in cis if ci.attributes.get("node") and ci.tags.get("os"))
            offset += len(cis)
            if not cis or offset >= total:
                return found
            await asyncio.sleep(0)

    # Compliance ------------------------------------------------------------------------

    async def scan(self, ci_ids: list[str] | None = None) -> list[CiPatchState]:
        """Read the advisories again and assess the CIs (every patchable one by default)."""
        self.advisories = feeds.collect(self.feeds)
        self._orders = {}
        chosen = [ci for ci in await self.patchable_cis() if ci_ids is None or ci.id in ci_ids]
        if ci_ids is not None and len(chosen) < len(set(ci_ids)):
            missing = sorted(set(ci_ids) - {ci.id for ci in chosen})
            raise NotFound(f"no patchable CI {', '.join(missing)}")
        scanned = []
        slice_started = time.perf_counter()
        for ci in chosen:
            scanned.append(await self._assess_ci(ci))
            if time.perf_counter() - slice_started > SCAN_SLICE_SECONDS:
                # A lazy node's inventory is read without a pause: let requests in between.
                await asyncio.sleep(0)
                slice_started = time.perf_counter()
        # One transaction for the lot: a first scan of a 10,000-VM estate is one write, not
        # 10,000; encoded in the writing thread, so the loop is not held for it.
        for state in scanned:
            self.states[state.ci_id] = state
        await asyncio.to_thread(self._store_states, scanned)
        if ci_ids is None:
            self.scanned_once = True
        return scanned

    def _store_states(self, states: list[CiPatchState]) -> None:
        self.dcsim.store.put_many(NAMESPACE, {f"state/{state.ci_id}": to_json(state) for state in states})

    async def ensure_scanned(self) -> None:
        """Scan everything once, the first time compliance is asked for; requests that ask
        while that scan runs wait for it rather than each starting one."""
        if self.scanned_once:
            return
        # A finished one that left scanned_once unset failed: try again.
        if self._first_scan is None or self._first_scan.done():
            self._first_scan = asyncio.get_running_loop().create_task(self.scan())
        await asyncio.shield(self._first_scan)

    async def _assess_ci(self, ci: Ci) -> CiPatchState:
        """The patch state of ``ci`` from its node's packages and the advisories (not stored)."""
        node, os_type = str(ci.attributes["node"]), str(ci.tags["os"])
        previous = self.states.get(ci.id)
        state = CiPatchState(ci_id=ci.id, ci_name=ci.name, ci_type=ci.type, node=node, os_type=os_type,
                             env=ci.tags.get("env"), last_scanned=utcnow(),
                             last_patched=previous.last_patched if previous else None)  # fmt: skip
        nodes = self.dcsim.sim.nodes
        try:
            state.installed = await nodes.packages(node)
        except (DcsimError, OSError, ValueError) as exc:
            state.reason = f"package inventory unreadable: {exc}"
            return state
        try:
            await nodes.read_file(node, REBOOT_MARK)
            state.pending_reboot = True
        except (DcsimError, OSError):
            state.pending_reboot = False
        state.pending_patches = applicable(state.installed, os_type, self.advisories.values(), self.compare)
        assess(state, self.advisories, governing_policy(self.policies.values(), os_type, ci.tags))
        return state

    async def _save_state(self, state: CiPatchState) -> None:
        self.states[state.ci_id] = state
        await self._put(f"state/{state.ci_id}", to_json(state))

    def state_of(self, ci_ref: str) -> CiPatchState:
        """The patch state of a CI by id or name; NotFound when it was never scanned."""
        for state in self.states.values():
            if ci_ref in (state.ci_id, state.ci_name):
                return state
        raise NotFound(f"no patch state for CI {ci_ref!r}")

    @staticmethod
    def stale(state: CiPatchState) -> bool:
        """True when the scan is old, or the CI was never read."""
        return state.last_scanned is None or utcnow() - state.last_scanned > STALE_AFTER

    def compliance_pct(self) -> float:
        """Percent of assessed CIs that are compliant (0 when none is assessed)."""
        known = [s for s in self.states.values() if s.compliance_status is not Compliance.UNKNOWN]
        compliant = sum(1 for s in known if s.compliance_status is Compliance.COMPLIANT)
        return round(100.0 * compliant / len(known), 1) if known else 0.0

    # Policies and schedules ------------------------------------------------------------

    async def save_policy(self, policy: Policy) -> Policy:
        """Create or replace a policy and re-arm its schedule."""
        check_schedule(policy.schedule)
        self.policies[policy.id] = policy
        await self._put(f"policy/{policy.id}", to_json(policy))
        self.arm(policy)
        return policy

    async def delete_policy(self, policy_id: str) -> None:
        """Delete a policy and its timer; NotFound when there is none."""
        if self.policies.pop(policy_id, None) is None:
            raise NotFound(f"no patch policy {policy_id!r}")
        timer = self._timers.pop(policy_id, None)
        if timer is not None:
            timer.cancel()
        await asyncio.to_thread(self.dcsim.store.delete, NAMESPACE, f"policy/{policy_id}")

    def policy(self, policy_id: str) -> Policy:
        """The policy ``policy_id``; NotFound otherwise."""
        try:
            return self.policies[policy_id]
        except KeyError:
            raise NotFound(f"no patch policy {policy_id!r}") from None

    def arm(self, policy: Policy) -> None:
        """Set one timer to the policy's next due time (replacing any), if it has a schedule."""
        timer = self._timers.pop(policy.id, None)
        if timer is not None:
            timer.cancel()
        if not policy.schedule or not policy.enabled:
            return
        now = utcnow()
        due = next_due(policy.schedule, now)
        loop = asyncio.get_running_loop()
        self._timers[policy.id] = loop.call_later(max((due - now).total_seconds(), 0.0), self._due, policy.id)
        self._due_times[policy.id] = due

    def due_at(self, policy_id: str) -> datetime | None:
        """When the policy's timer fires next, or None."""
        return self._due_times.get(policy_id) if policy_id in self._timers else None

    def _due(self, policy_id: str) -> None:
        self._timers.pop(policy_id, None)
        policy = self.policies.get(policy_id)
        if policy is None:
            return
        task = asyncio.get_running_loop().create_task(self._scheduled_run(policy_id))
        task.add_done_callback(lambda _: self._rearm(policy_id))

    async def _scheduled_run(self, policy_id: str) -> None:
        """Start the due run, unless another process on the store started it (its lease)."""
        store = self.dcsim.store
        if self.dcsim.changes.active and not await asyncio.to_thread(
            store.take_lease, _schedule_lease(policy_id), store.origin, SCHEDULE_LEASE_SECONDS
        ):
            return
        await self.start_run(policy_id, "schedule")

    def _rearm(self, policy_id: str) -> None:
        policy = self.policies.get(policy_id)
        if policy is not None:
            self.arm(policy)

    # Runs --------------------------------------------------------------------------------

    async def start_run(self, policy_id: str, actor: str) -> Run:
        """Create a run of ``policy_id`` and drive it in the background."""
        from dcsim.patch.runs import RunPipeline

        policy = self.policy(policy_id)
        run = Run(policy=policy.id, requested_by=actor)
        await self.save_run(run)
        if self.dcsim.changes.active:
            await self._lease_run(run.id)
        pipeline = RunPipeline(self, run, policy)
        task = asyncio.get_running_loop().create_task(pipeline.drive())
        self._tasks[run.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(run.id, None))
        return run

    def run(self, run_id: str) -> Run:
        """The run ``run_id``; NotFound otherwise."""
        try:
            return self.runs[run_id]
        except KeyError:
            raise NotFound(f"no patch run {run_id!r}") from None

    async def cancel_run(self, run_id: str) -> Run:
        """Ask a run to stop before its next batch; Conflict when it has ended."""
        from dcsim.errors import Conflict

        run = self.run(run_id)
        if run.state in FINAL_RUN_STATES:
            raise Conflict(f"patch run {run_id} is {run.state.value}", state=run.state.value)
        # A batch already handed to the runner finishes; the run stops before the next one.
        self.cancelled.add(run_id)
        return run

    async def save_run(self, run: Run) -> None:
        """Keep a run (memory and store)."""
        self.runs[run.id] = run
        await self._put(f"run/{run.id}", to_json(run))

    async def request(self, correlation_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Publish ``patch.scheduled`` and wait for the runner's ``ansible.run.completed``."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[correlation_id] = future
        try:
            await self.dcsim.publish("patch.scheduled", data | {"correlation_id": correlation_id}, source=SOURCE,
                                     subject=f"patch/{correlation_id}")  # fmt: skip
            return await asyncio.wait_for(future, self.run_timeout.total_seconds())
        except TimeoutError:
            return {"status": "timeout", "reason": f"no ansible.run.completed within {self.run_timeout}"}
        finally:
            self._waiters.pop(correlation_id, None)
            if self.dcsim.changes.active:
                await asyncio.to_thread(self._forget_result, correlation_id)

    def _forget_result(self, correlation_id: str) -> None:
        with contextlib.suppress(NotFound):
            self.dcsim.store.delete(NAMESPACE, f"result/{correlation_id}")

    async def on_event(self, event: Event) -> None:
        """Runner results: wake the run waiting for them; other runs make their nodes' scans stale."""
        if event.type != "ansible.run.completed":
            return
        correlation_id = str(event.data.get("correlation_id") or "")
        future = self._waiters.get(correlation_id)
        if future is not None and not future.done():
            future.set_result(dict(event.data))
            return
        if future is None and correlation_id.startswith("patch:") and self.dcsim.changes.active:
            # Another process of the group waits for it: hand it over through the store.
            await asyncio.to_thread(self.dcsim.store.put, NAMESPACE, f"result/{correlation_id}", dict(event.data))
            return
        stats = event.data.get("stats")
        if correlation_id.startswith("patch:") or not isinstance(stats, dict):
            return
        for state in self.states.values():
            if state.node in stats:
                # Something else ran on the node (package remediation, a playbook): rescan it.
                state.last_scanned = None
                await self._save_state(state)


def _schedule_lease(policy_id: str) -> str:
    """The lease name of a policy's schedule (a digest: lease names have at most 64 characters)."""
    return "patch-schedule:" + hashlib.sha1(policy_id.encode(), usedforsecurity=False).hexdigest()
