"""Runner workers: take run requests from the bus (one consumer group) and execute them.

Several workers, in one process or many, share the group ``ansible-runs``: each request
is handed to one of them. Claiming a run is a versioned write of its record (only one
claim wins) together with a store lease ``ansible-run:<id>`` the worker renews while
ansible runs. A worker that dies mid-run stops renewing; whichever worker next meets the
run (its redelivered request, or the periodic sweep) fails it with the reason. A request
whose run never started (the worker died first) is simply taken again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import structlog

from dcsim.bus.base import Delivery
from dcsim.errors import DcsimError, NotFound
from dcsim.model import Event, new_id, utcnow
from dcsim_ansible.execution import Execution, Outcome
from dcsim_ansible.records import FINAL, Run, RunEvent
from dcsim_ansible.runbook import RunBook

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim_ansible.settings import AnsibleSettings

log = structlog.get_logger(__name__)

#: The consumer group every worker reads run requests from.
GROUP = "ansible-runs"
SOURCE = "/ansible"
#: How often a running execution looks at its record for a cancel request (seconds).
CANCEL_POLL_SECONDS = 0.5


def lease_name(run_id: str) -> str:
    """The store lease a worker holds while it executes run ``run_id``."""
    return f"ansible-run:{run_id}"


def completed_event(dcsim: DcSim, run: Run) -> Event:
    """The ``ansible.run.completed`` event of a run that is over."""
    return dcsim.event(
        "ansible.run.completed",
        {
            "run_id": run.id,
            "playbook": run.playbook,
            "status": run.status,
            "rc": run.rc,
            "stats": msgspec.to_builtins(run.stats),
            "reason": run.reason,
            "trigger": run.trigger,
            "correlation_id": run.correlation_id,
        },
        source=SOURCE,
        subject=f"ansible/runs/{run.id}",
    )


def default_name() -> str:
    """A worker name unique on this machine: host, process and a short random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[:8]}"


class Worker:
    """One worker: a loop reading run requests and executing them one at a time."""

    def __init__(self, dcsim: DcSim, settings: AnsibleSettings, catalogue: Any, name: str | None = None) -> None:
        self.dcsim = dcsim
        self.settings = settings
        self.catalogue = catalogue
        self.name = name or default_name()
        self.runbook = RunBook(dcsim.store)
        self._task: asyncio.Task[None] | None = None
        self._stopping = threading.Event()
        self._last_sweep = 0.0
        #: Runs this worker executed (tests read it).
        self.executed: list[str] = []

    async def start(self) -> None:
        """Create the group (it must exist before requests are published) and start reading."""
        await self.dcsim.bus.ensure_group(GROUP)
        self._task = asyncio.create_task(self._loop(), name=f"ansible-worker {self.name}")

    async def stop(self) -> None:
        """Stop reading; a run in progress is stopped and failed with the reason."""
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                await self._sweep_when_due()
                deliveries = await self.dcsim.bus.read(GROUP, self.name, count=1, block_seconds=1.0)
                for delivery in deliveries:
                    await self._handle(delivery)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except DcsimError as exc:
                log.warning("ansible.worker_backoff", worker=self.name, error=exc.detail)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                if isinstance(exc, NotFound):
                    await self.dcsim.bus.ensure_group(GROUP)
            except Exception:
                log.exception("ansible.worker_error", worker=self.name)
                await asyncio.sleep(backoff)

    async def _handle(self, delivery: Delivery) -> None:
        if self._stopping.is_set():
            return  # left pending: the bus hands it to another worker
        event = delivery.event
        run_id = event.data.get("run_id") if event.type == "ansible.run.requested" else None
        if isinstance(run_id, str):
            # With tracing on, the run is a span of the trace that requested it (the
            # request's traceparent in the envelope); its events continue that trace.
            name = f"ansible.run {event.data.get('playbook', '')}".rstrip()
            with self.dcsim.tracing.consuming(event, name, GROUP) as span:
                try:
                    await asyncio.to_thread(self._take, run_id)
                except NotFound:
                    log.warning("ansible.request_without_run", run_id=run_id)
                else:
                    if span is not None:
                        run = await asyncio.to_thread(self.runbook.get, run_id)
                        span.set_attributes({"dcsim.run.id": run_id, "dcsim.run.status": run.status})
        await self.dcsim.bus.ack(GROUP, delivery.message_id)

    # Runs, in a thread (the store and ansible-runner block) ------------------------------

    def _take(self, run_id: str) -> None:
        run = self.runbook.get(run_id)
        if run.status == "running":
            self._fail_if_abandoned(run)
            return
        if run.status != "queued" or self._stopping.is_set():
            return
        store = self.dcsim.store
        if not store.take_lease(lease_name(run_id), self.name, self.settings.lease_seconds):
            return

        def claim(current: Run) -> Run | None:
            if current.status != "queued":
                return None
            return msgspec.structs.replace(current, status="running", worker=self.name, started_at=utcnow())

        def started(current: Run) -> list[Event]:
            data = {
                "run_id": run_id,
                "playbook": current.playbook,
                "worker": self.name,
                "correlation_id": current.correlation_id,
            }
            return [self.dcsim.event("ansible.run.started", data, source=SOURCE, subject=f"ansible/runs/{run_id}")]

        claimed = self.runbook.try_update(run_id, claim, started)
        if claimed is None:
            store.drop_lease(lease_name(run_id), self.name)
            return
        renewing = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(run_id, renewing), daemon=True)
        renewer.start()
        try:
            outcome = self._execute(claimed)
        except Exception as exc:  # a broken request or a bug: the run must not stay "running"
            log.exception("ansible.execution_error", run_id=run_id)
            outcome = Outcome("failed", None, {}, [], "", f"the worker could not execute it: {exc}")
        finally:
            renewing.set()
            renewer.join()
        self._finish(claimed, outcome)
        store.drop_lease(lease_name(run_id), self.name)
        self.executed.append(run_id)

    def _renew(self, run_id: str, done: threading.Event) -> None:
        while not done.wait(self.settings.lease_seconds / 3):
            try:
                self.dcsim.store.take_lease(lease_name(run_id), self.name, self.settings.lease_seconds)
            except DcsimError as exc:
                log.warning("ansible.lease_renew_failed", run_id=run_id, error=exc.detail)

    def _execute(self, run: Run) -> Outcome:
        request = self.runbook.request(run.id)
        checked = [0.0, False]

        def should_cancel() -> bool:
            if self._stopping.is_set():
                return True
            now = time.monotonic()
            if now - checked[0] >= CANCEL_POLL_SECONDS:
                checked[0] = now
                with contextlib.suppress(DcsimError):
                    checked[1] = self.runbook.get(run.id).cancel_requested
            return bool(checked[1])

        def on_event(record: RunEvent) -> None:
            data = {
                "run_id": run.id,
                "seq": record.seq,
                "event": record.event,
                "host": record.host,
                "task": record.task,
                "changed": record.changed,
                "stdout": record.stdout,
            }
            event = self.dcsim.event("ansible.run.log", data, source=SOURCE, subject=f"ansible/runs/{run.id}")
            self.runbook.add_event(record, event)

        hostvars = request.inventory.get("_meta", {}).get("hostvars", {})

        def on_facts(host: str, facts: dict[str, Any]) -> None:
            ci_id = (hostvars.get(host) or {}).get("dcsim_ci_id")
            if not ci_id:
                log.warning("ansible.facts_without_ci", run_id=run.id, host=host)
                return
            data = {"run_id": run.id, "host": host, "ci_id": ci_id, "facts": facts}
            self.dcsim.store.add_event(
                self.dcsim.event("ansible.facts_collected", data, source=SOURCE, subject=f"ci/{ci_id}")
            )

        execution = Execution(
            run,
            request,
            vault_password=self.settings.vault_password,
            on_event=on_event,
            on_facts=on_facts,
            should_cancel=should_cancel,
        )
        outcome = execution.run(Path(request.playbook_path))
        if self._stopping.is_set() and outcome.status == "canceled":
            outcome.status = "failed"
            outcome.reason = f"worker {self.name} stopped while running it"
        return outcome

    def _finish(self, run: Run, outcome: Outcome) -> None:
        def change(current: Run) -> Run:
            return msgspec.structs.replace(
                current,
                status=outcome.status,
                rc=outcome.rc,
                reason=outcome.reason,
                stats=outcome.stats,
                changed_tasks=outcome.changed_tasks,
                event_count=outcome.event_count,
                finished_at=utcnow(),
            )

        self.runbook.finish(run.id, change, outcome.stdout, lambda new: [completed_event(self.dcsim, new)])

    def _fail_if_abandoned(self, run: Run) -> None:
        """Fail a running run whose worker stopped renewing its lease."""
        store = self.dcsim.store
        sweeper = f"sweeper:{self.name}"
        if not store.take_lease(lease_name(run.id), sweeper, self.settings.lease_seconds):
            return  # its worker is alive
        reason = (
            f"worker {run.worker} stopped while running it (no lease renewal for {self.settings.lease_seconds:g} s)"
        )

        def fail(current: Run) -> Run | None:
            if current.status != "running" or current.worker != run.worker:
                return None
            return msgspec.structs.replace(current, status="failed", reason=reason, finished_at=utcnow())

        self.runbook.try_update(run.id, fail, lambda new: [completed_event(self.dcsim, new)])
        store.drop_lease(lease_name(run.id), sweeper)

    async def _sweep_when_due(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < self.settings.lease_seconds:
            return
        self._last_sweep = now
        await asyncio.to_thread(self.sweep)

    def sweep(self) -> None:
        """Fail abandoned running runs; ask again for runs queued too long."""
        now = utcnow()
        for run in self.runbook.all():
            if run.status in FINAL:
                continue
            if run.status == "running":
                self._fail_if_abandoned(run)
            elif self._due(run, now):
                self.runbook.try_update(run.id, lambda current: self._requeued(current, now), self._requested)

    def _due(self, run: Run, now: datetime) -> bool:
        asked = run.requeued_at or run.created_at
        return run.status == "queued" and (now - asked).total_seconds() > self.settings.requeue_seconds

    def _requeued(self, current: Run, now: datetime) -> Run | None:
        # One sweeper wins the versioned write, so a waiting run is asked for once per period.
        return msgspec.structs.replace(current, requeued_at=now) if self._due(current, now) else None

    def _requested(self, run: Run) -> list[Event]:
        data = {
            "run_id": run.id,
            "playbook": run.playbook,
            "trigger": run.trigger,
            "correlation_id": run.correlation_id,
        }
        return [self.dcsim.event("ansible.run.requested", data, source=SOURCE, subject=f"ansible/runs/{run.id}")]
