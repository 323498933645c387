"""The runner service: asks for runs, cancels them, lists them; the API and the triggers use it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from dcsim.errors import Conflict, InvalidInput, NotFound
from dcsim.model import new_id, utcnow
from dcsim_ansible.playbooks import Catalogue
from dcsim_ansible.records import FINAL, Run, RunCreate, RunRequest
from dcsim_ansible.runbook import RunBook
from dcsim_ansible.secret_vars import decrypt, encrypt
from dcsim_ansible.worker import SOURCE, Worker, completed_event

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim_ansible.metrics import RunnerCollector
    from dcsim_ansible.settings import AnsibleSettings
    from dcsim_ansible.triggers import Triggers


class AnsibleRunner:
    """The ``ansible`` service: what ``/ansible`` and the event triggers call."""

    def __init__(self, settings: AnsibleSettings) -> None:
        self.settings = settings
        self.catalogue = Catalogue(settings.project_dirs)
        self._dcsim: DcSim | None = None
        self.worker: Worker | None = None
        self.triggers: Triggers | None = None
        #: The queue-depth series on ``/metrics`` while started (dcsim_ansible.metrics).
        self.collector: RunnerCollector | None = None

    @property
    def dcsim(self) -> DcSim:
        """The instance this service was started in."""
        if self._dcsim is None:
            raise RuntimeError("the ansible service is not started")
        return self._dcsim

    @property
    def runbook(self) -> RunBook:
        """The runs in the instance's store."""
        return RunBook(self.dcsim.store)

    async def start(self, dcsim: DcSim, *, worker: bool) -> None:
        """Bind to ``dcsim``; create the workers' group; run a worker in-process if asked."""
        from dcsim_ansible.triggers import Triggers

        self._dcsim = dcsim
        self.triggers = Triggers(self, self.settings.triggers_disabled)
        # Requests published before any worker started must wait in the group, not be lost.
        from dcsim_ansible.worker import GROUP

        await dcsim.bus.ensure_group(GROUP)
        if worker:
            self.worker = Worker(dcsim, self.settings, self.catalogue)
            await self.worker.start()

    async def close(self) -> None:
        """Stop the in-process worker."""
        if self.worker is not None:
            await self.worker.stop()
            self.worker = None

    async def inventory(self) -> dict[str, Any]:
        """The CMDB's Ansible inventory (which carries the node backend's connection vars),
        plus the data directory's SSH key for hosts reached over SSH (SPEC-013)."""
        from dcsim.cmdb.service import Cmdb

        cmdb = self.dcsim.services.find(Cmdb)
        if cmdb is None:
            return {"_meta": {"hostvars": {}}, "all": {"children": ["ungrouped"]}}
        inventory = await cmdb.inventory()
        for hostvars in inventory.get("_meta", {}).get("hostvars", {}).values():
            if hostvars.get("ansible_connection", "ssh") == "ssh":
                from dcsim.sim.nodes.docker import ssh_key_path

                hostvars["ansible_ssh_private_key_file"] = str(ssh_key_path(self.dcsim.settings).resolve())
        return inventory

    async def request(
        self,
        create: RunCreate,
        *,
        actor: str,
        trigger: str = "api",
        correlation_id: str | None = None,
        cause: str | None = None,
    ) -> Run:
        """Queue a run; a worker takes it from the bus. InvalidInput when it cannot run."""
        path = self.catalogue.path(create.playbook)
        playbook = self.catalogue.get(create.playbook)
        given = {*create.extra_vars, *create.secret_vars, *create.vault_vars}
        missing = [v.name for v in playbook.variables if v.required and v.name not in given]
        if missing:
            raise InvalidInput(
                f"playbook {create.playbook} needs {', '.join(missing)}",
                errors=[{"field": f"extra_vars.{name}", "message": "required by the playbook"} for name in missing],
            )
        reserved = sorted(
            f"{field}.{name}"
            for field, names in (("extra_vars", create.extra_vars), ("secret_vars", create.secret_vars),
                                 ("vault_vars", create.vault_vars))
            for name in names
            if name.startswith("ansible_")
        )  # fmt: skip
        if reserved:
            raise InvalidInput(
                "extra vars may not set ansible_* connection variables: the inventory says how nodes are reached",
                errors=[{"field": field, "message": "ansible_* is reserved"} for field in reserved],
            )
        password = self.settings.vault_password
        if (create.secret_vars or create.vault_vars) and not password:
            raise InvalidInput("secret and vault vars need plugins.ansible.vault_password to be set")
        for name, ciphertext in create.vault_vars.items():
            try:
                decrypt(password or "", ciphertext)
            except InvalidInput as exc:
                raise InvalidInput(
                    exc.detail, errors=[{"field": f"vault_vars.{name}", "message": exc.detail}]
                ) from None
        secret_vars = {name: encrypt(password or "", value) for name, value in create.secret_vars.items()}
        run = Run(
            id=new_id(),
            playbook=create.playbook,
            status="queued",
            trigger=trigger,
            correlation_id=correlation_id,
            requested_by=actor,
            limit=create.limit,
            tags=list(create.tags),
            extra_vars=dict(create.extra_vars),
            secret_var_names=sorted({*create.secret_vars, *create.vault_vars}),
            check=create.check,
            diff=create.diff,
            forks=create.forks or self.settings.default_forks,
            timeout=create.timeout or self.settings.default_timeout,
            created_at=utcnow(),
        )
        request = RunRequest(
            run_id=run.id,
            playbook_path=str(path.resolve()),
            inventory=await self.inventory(),
            secret_vars=secret_vars,
            vault_vars=dict(create.vault_vars),
            confined=playbook.source == "library",
        )
        data = {"run_id": run.id, "playbook": run.playbook, "trigger": trigger, "correlation_id": correlation_id}
        event = self.dcsim.event("ansible.run.requested", data, source=SOURCE, subject=f"ansible/runs/{run.id}")
        await asyncio.to_thread(self.runbook.create, run, request, event, cause)
        return run

    async def get(self, run_id: str) -> Run:
        """Run ``run_id``; NotFound when there is none."""
        return await asyncio.to_thread(self.runbook.get, run_id)

    async def list(
        self,
        *,
        status: str | None = None,
        playbook: str | None = None,
        trigger: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Run]:
        """Runs matching every filter given, newest first."""
        runs = await asyncio.to_thread(self.runbook.all)
        return [
            r
            for r in runs
            if (status is None or r.status == status)
            and (playbook is None or r.playbook == playbook)
            and (trigger is None or r.trigger == trigger)
            and (since is None or r.created_at >= since)
            and (until is None or r.created_at <= until)
        ]

    async def cancel(self, run_id: str) -> Run:
        """Cancel a queued run at once, or ask the worker of a running one to stop it.

        Conflict when the run is already over.
        """

        def change(current: Run) -> Run | None:
            if current.status in FINAL:
                raise Conflict(f"run {run_id} is already {current.status}")
            if current.status == "queued":
                return msgspec.structs.replace(
                    current, status="canceled", reason="canceled before it started", finished_at=utcnow()
                )
            return msgspec.structs.replace(current, cancel_requested=True)

        def events(new: Run) -> list[Any]:
            return [completed_event(self.dcsim, new)] if new.status == "canceled" else []

        try:
            updated = await asyncio.to_thread(self.runbook.update, run_id, change, events)
        except Conflict as exc:
            if "already" in exc.detail:
                raise
            # The worker wrote first (claimed or finished it): look again.
            updated = await asyncio.to_thread(self.runbook.update, run_id, change, events)
        if updated is None:
            raise NotFound(f"no run {run_id}")
        return updated
