"""Helpers of the library's tests (no tests here): run a library playbook with
ansible-runner and real ansible-core, read a run's stats and task results."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import ansible_runner
import attrs

from dcsim_ansible.plugins import ansible_env, playbook_path


@attrs.frozen
class PlaybookRun:
    """What one ``ansible-playbook`` run did."""

    rc: int
    status: str
    stats: dict[str, dict[str, int]]
    events: list[dict[str, Any]]
    stdout: str

    def changed(self, host: str) -> int:
        """Tasks ``host`` reported changed."""
        return self.stats.get("changed", {}).get(host, 0)

    def hosts(self) -> set[str]:
        """Every host the run reached."""
        return {h for per_host in self.stats.values() if isinstance(per_host, dict) for h in per_host}

    def results(self, task: str, event: str = "runner_on_ok") -> dict[str, dict[str, Any]]:
        """Host to the result of the task named ``task`` (last of a loop's items)."""
        found = {}
        for item in self.events:
            data = item.get("event_data", {})
            if item.get("event") == event and data.get("task") == task:
                found[data["host"]] = data.get("res", {})
        return found


def run_playbook(
    work: Path,
    name: str | Path,
    inventory: dict[str, Any],
    extravars: dict[str, Any] | None = None,
    limit: str | None = None,
    check: bool = False,
) -> PlaybookRun:
    """Run library playbook ``name`` (or the playbook file at a path) in private data
    directory ``work`` (made fresh)."""
    work.mkdir(parents=True, exist_ok=False)
    # The CMDB's inventory is dynamic-inventory JSON (groups list their hosts), which
    # Ansible reads from an inventory script, not from a static inventory file.
    script = work / "inventory.py"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write({json.dumps(inventory)!r})\n")
    script.chmod(0o755)
    env = {
        **ansible_env(),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        # One SSH connection per host for the whole run, modules piped through it.
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=30s -o UserKnownHostsFile=/dev/null",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(work / "cp"),
        "ANSIBLE_PIPELINING": "True",
    }
    runner = ansible_runner.run(
        private_data_dir=str(work),
        playbook=str(name if isinstance(name, Path) else playbook_path(name)),
        cmdline="--check" if check else None,
        inventory=str(script),
        extravars=extravars or {},
        limit=limit,
        envvars=env,
        quiet=True,
    )
    stdout = runner.stdout.read() if runner.stdout else ""
    return PlaybookRun(
        rc=int(runner.rc),
        status=str(runner.status),
        stats=dict(runner.stats or {}),
        events=list(runner.events),
        stdout=stdout,
    )
