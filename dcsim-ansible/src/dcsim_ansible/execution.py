"""Executing one run: ansible-runner driving real ansible-playbook, in the calling thread.

Each execution gets a private data directory of its own (inventory snapshot, the vault
password file, secret vars as ``!vault`` values, SSH control sockets) that is deleted
afterwards, with every process still running from it: a canceled or timed-out run, or
one whose ansible forks outlived it, leaves no process behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import psutil
import structlog

from dcsim_ansible.records import ChangedTask, HostStats, Run, RunEvent, RunRequest
from dcsim_ansible.secret_vars import Redactor, decrypt, vault_file_secrets

log = structlog.get_logger(__name__)

#: ansible-runner's play recap keys and ours (``dark`` is ansible's word for unreachable).
_STATS_KEYS = {
    "ok": "ok",
    "changed": "changed",
    "failures": "failures",
    "dark": "unreachable",
    "skipped": "skipped",
    "rescued": "rescued",
    "ignored": "ignored",
}
#: Where the connection plugins shipped with the package live.
PLUGINS_DIR = Path(__file__).parent / "plugins"
ROLES_DIR = Path(__file__).parent / "roles"


@attrs.define
class Outcome:
    """How an execution ended."""

    status: str
    rc: int | None
    stats: dict[str, HostStats]
    changed_tasks: list[ChangedTask]
    stdout: str
    reason: str | None = None
    event_count: int = 0


def _stats(event_data: dict[str, Any]) -> dict[str, HostStats]:
    hosts: dict[str, dict[str, int]] = {}
    for key, ours in _STATS_KEYS.items():
        for host, count in (event_data.get(key) or {}).items():
            hosts.setdefault(host, {})[ours] = int(count)
    return {host: HostStats(**counts) for host, counts in sorted(hosts.items())}


def static_inventory(dynamic: dict[str, Any]) -> dict[str, Any]:
    """A dynamic-inventory document (``_meta.hostvars``, groups with ``hosts`` lists) as
    the static form an inventory file holds (``all.hosts`` with vars, ``all.children``)."""
    hostvars = dynamic.get("_meta", {}).get("hostvars", {})
    children: dict[str, Any] = {}
    for group, body in dynamic.items():
        if group in ("_meta", "all") or not isinstance(body, dict):
            continue
        children[group] = {"hosts": {host: {} for host in body.get("hosts", [])}}
    return {"all": {"hosts": {host: dict(v) for host, v in hostvars.items()}, "children": children}}


def effective_limit(limit: str | None, confined: bool) -> str | None:
    """The ``--limit`` ansible gets: a confined run never leaves the inventory's hosts
    (``&all`` drops the implicit localhost, the machine dc-sim itself runs on)."""
    if not confined:
        return limit
    return f"{limit},&all" if limit else "all"


def _vault_file(variables: dict[str, str]) -> str:
    lines = []
    for name, ciphertext in variables.items():
        lines.append(f"{name}: !vault |")
        lines.extend(f"  {line}" for line in ciphertext.strip().splitlines())
    return "\n".join(lines) + "\n"


def _sessions_under(directory: Path) -> set[int]:
    """Session ids of the processes whose command line names ``directory``."""
    mark = str(directory)
    sessions = set()
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            if process.pid != os.getpid() and any(mark in part for part in process.info["cmdline"] or ()):
                sessions.add(os.getsid(process.pid))
        except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
            continue
    sessions.discard(os.getsid(0))
    return sessions


def kill_processes(directory: Path, sessions: set[int], spare_children: bool = False) -> int:
    """Kill every process whose command line names ``directory`` or that belongs to one of
    ``sessions`` (ansible-playbook runs in a session of its own: its forks and the module
    processes they start stay in it even once their parent is gone); return how many.

    ``spare_children``: leave this process's own children (ansible-playbook itself,
    which ansible-runner stops and reaps) alone."""
    mark = str(directory)
    own = os.getsid(0)
    victims = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            if process.pid == os.getpid() or (spare_children and process.ppid() == os.getpid()):
                continue
            session = os.getsid(process.pid)
            named = any(mark in part for part in process.info["cmdline"] or ())
            if (session in sessions and session != own) or named:
                victims.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
            continue
    for process in victims:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(victims, timeout=5)
    return len(victims)


class Execution:
    """One run of one playbook; :meth:`run` blocks until it is over.

    ``on_event`` gets each redacted :class:`RunEvent` in order, ``on_facts`` the
    ``dcsim_cmdb_facts`` a host reported, ``should_cancel`` is asked every moment.
    """

    def __init__(
        self,
        run: Run,
        request: RunRequest,
        *,
        vault_password: str | None,
        on_event: Callable[[RunEvent], None],
        on_facts: Callable[[str, dict[str, Any]], None],
        should_cancel: Callable[[], bool],
    ) -> None:
        self.run_record = run
        self.request = request
        self.vault_password = vault_password
        self.on_event = on_event
        self.on_facts = on_facts
        self.should_cancel = should_cancel
        secrets: list[str] = []
        if vault_password:
            ciphertexts = [*request.secret_vars.values(), *request.vault_vars.values()]
            secrets = [decrypt(vault_password, c) for c in ciphertexts]
            secrets += vault_file_secrets(vault_password, Path(request.playbook_path).parent)
        self.redactor = Redactor(secrets)
        self.seq = 0
        self.stats: dict[str, HostStats] = {}
        self.changed: list[ChangedTask] = []
        self.canceled = threading.Event()
        self.sessions: set[int] = set()
        self.timed_out = threading.Event()
        self._started = time.monotonic()
        self._looked_for_session = 0.0
        self.work = Path(tempfile.mkdtemp(prefix="dcsim-ansible-"))

    def _handle(self, raw: dict[str, Any]) -> bool:
        data = self.redactor.value(raw.get("event_data") or {})
        name = str(raw.get("event", ""))
        self.seq += 1
        result = data.get("res") if isinstance(data.get("res"), dict) else {}
        host = data.get("host")
        task = data.get("task")
        changed = bool(result.get("changed")) and name == "runner_on_ok"
        record = RunEvent(
            run_id=self.run_record.id,
            seq=self.seq,
            event=name,
            host=str(host) if host else None,
            task=str(task) if task else None,
            changed=changed,
            stdout=self.redactor.text(str(raw.get("stdout") or "")),
            created=str(raw.get("created")) if raw.get("created") else None,
            data={
                k: v
                for k, v in data.items()
                if k in ("play", "task_action", "res", "duration", "start", "end", "artifact_data")
            },
        )
        if name == "playbook_on_stats":
            self.stats = _stats(data)
        if changed and host and task:
            self.changed.append(ChangedTask(host=str(host), task=str(task), seq=self.seq))
        facts = (result.get("ansible_facts") or {}).get("dcsim_cmdb_facts") if name == "runner_on_ok" else None
        self.on_event(record)
        if host and isinstance(facts, dict):
            self.on_facts(str(host), facts)
        # Nothing is kept in ansible-runner's artifacts: the directory is deleted anyway.
        return False

    def _cancel(self) -> bool:
        now = time.monotonic()
        if not self.sessions and now - self._looked_for_session > 0.5:
            self._looked_for_session = now
            self.sessions = _sessions_under(self.work)
        if now - self._started > self.run_record.timeout:
            self.timed_out.set()
        if self.timed_out.is_set() or self.should_cancel():
            # Before ansible-runner stops ansible-playbook: its forks must not outlive it.
            self.sessions |= _sessions_under(self.work)
            kill_processes(self.work, self.sessions, spare_children=True)
            if not self.timed_out.is_set():
                self.canceled.set()
            return True
        return False

    def run(self, playbook: Path) -> Outcome:
        """Execute the playbook; never raises for an ansible failure (the outcome says it)."""
        import ansible_runner  # type: ignore[import-untyped]

        run = self.run_record
        work = self.work
        self._started = time.monotonic()
        try:
            cmdline = []
            env_dir = work / "env"
            env_dir.mkdir()
            if self.vault_password:
                password_file = work / "vault-password"
                password_file.write_text(self.vault_password)
                password_file.chmod(0o600)
                cmdline += ["--vault-password-file", str(password_file)]
            secret_vars = {**self.request.secret_vars, **self.request.vault_vars}
            if secret_vars:
                vars_file = work / "secret-vars.yml"
                vars_file.write_text(_vault_file(secret_vars))
                vars_file.chmod(0o600)
                cmdline += ["-e", f"@{vars_file}"]
            if run.check:
                cmdline.append("--check")
            if run.diff:
                cmdline.append("--diff")
            envvars = {
                "ANSIBLE_HOST_KEY_CHECKING": "False",
                "ANSIBLE_SSH_CONTROL_PATH_DIR": str(work / "cp"),
                "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=30s -o UserKnownHostsFile=/dev/null",
                "ANSIBLE_CONNECTION_PLUGINS": str(PLUGINS_DIR / "connection"),
                "ANSIBLE_ACTION_PLUGINS": str(PLUGINS_DIR / "action"),
                "ANSIBLE_ROLES_PATH": str(ROLES_DIR),
                "ANSIBLE_RETRY_FILES_ENABLED": "False",
                "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
                "ANSIBLE_NOCOLOR": "True",
                "PATH": _search_path(),
            }
            runner = ansible_runner.run(
                private_data_dir=str(work),
                playbook=str(playbook),
                inventory=static_inventory(self.request.inventory),
                extravars=dict(run.extra_vars),
                limit=effective_limit(run.limit, self.request.confined),
                tags=",".join(run.tags) or None,
                forks=run.forks,
                cmdline=" ".join(_quote(c) for c in cmdline) or None,
                envvars=envvars,
                event_handler=self._handle,
                cancel_callback=self._cancel,
                quiet=True,
                suppress_env_files=True,
            )
            stdout = self.redactor.text(_read(runner))
            status = str(runner.status)
            if self.timed_out.is_set():
                status = "timeout"
            elif self.canceled.is_set():
                status = "canceled"
            if status not in ("successful", "failed", "canceled", "timeout"):
                status = "failed"
            reason = None
            if status == "failed":
                reason = f"ansible-playbook exited with {runner.rc}"
            elif status == "timeout":
                reason = f"timed out after {run.timeout} s"
            elif status == "canceled":
                reason = "canceled on request"
            return Outcome(status, runner.rc, self.stats, self.changed, stdout, reason, self.seq)
        finally:
            kill_processes(work, self.sessions)
            shutil.rmtree(work, ignore_errors=True)


def _search_path() -> str:
    """PATH with this Python's bin first: a venv's ansible-playbook need not be on PATH."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)])


def _quote(part: str) -> str:
    import shlex

    return shlex.quote(part)


def _read(runner: Any) -> str:
    try:
        stdout = runner.stdout
        return str(stdout.read()) if stdout is not None else ""
    except (OSError, AttributeError):
        return ""
