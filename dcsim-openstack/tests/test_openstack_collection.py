"""Acceptance 3: the openstack.cloud collection (openstacksdk below 4.15) against a real
``dcsim serve``, with real ansible-core: ``network``, ``subnet``, ``security_group``,
``security_group_rule``, ``volume``, ``server`` (create and delete) and ``server_info``.

``playbooks/cloud.yml`` runs four times: present (every change task changed), present
again (nothing changed), absent (every removal changed), absent again (nothing changed;
the rule's task skipped, its group being gone).
Each task's own result is read from the output, so a module that is not idempotent is
named; openstacksdk checks what the modules made.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import openstack
import pytest

from dcsim.testing import ServerProcess, run_server

PLAYBOOK = Path(__file__).parent / "playbooks" / "cloud.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
RESULT = re.compile(r"^(?P<status>ok|changed|fatal|failed|skipping): \[localhost\]")
RECAP = re.compile(r"^localhost\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+failed=(?P<failed>\d+)", re.M)  # fmt: skip
CREATES = ["network ansible-net", "subnet ansible-subnet", "security_group ansible-sg",
           "security_group_rule ansible-sg tcp 443", "volume ansible-volume", "server ansible-server"]  # fmt: skip
REMOVES = ["security_group_rule ansible-sg tcp 443", "volume ansible-volume", "server ansible-server",
           "security_group ansible-sg (removal)", "subnet ansible-subnet (removal)", "network ansible-net (removal)"]  # fmt: skip


@attrs.frozen
class Run:
    """One ``ansible-playbook`` run: exit code, output, each task's result."""

    returncode: int
    output: str
    results: dict[str, str]

    def describe(self) -> str:
        return f"exit {self.returncode}, {self.results}\n{self.output[-6000:]}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on the default seed, for the module."""
    with run_server(tmp_path_factory.mktemp("collection") / "server") as running:
        yield running


def auth(server: ServerProcess) -> dict[str, object]:
    """The modules' ``cloud`` (and openstacksdk's connection arguments) as user demo."""
    return {
        "auth": {"auth_url": f"{server.url}/identity", "username": "demo", "password": "password",
                 "project_name": "demo", "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": "3",
    }  # fmt: skip


def play(server: ServerProcess, home: Path, state: str) -> Run:
    """Run the playbook with ``wanted_state=state``."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith(("ANSIBLE_", "OS_"))}  # fmt: skip
    env |= {
        "no_proxy": "127.0.0.1,localhost", "ANSIBLE_HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_CONFIG": str(home / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    }  # fmt: skip
    extra = {"os_cloud": auth(server), "wanted_state": state, "ansible_python_interpreter": sys.executable}
    command = [str(ANSIBLE_PLAYBOOK), "-e", json.dumps(extra), str(PLAYBOOK)]
    done = subprocess.run(command, env=env, cwd=home, capture_output=True, text=True, timeout=600)
    results: dict[str, str] = {}
    task = None
    for line in done.stdout.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK [") : line.rindex("]")]
        elif task and (match := RESULT.match(line)):
            results[task] = match["status"]
            task = None
    return Run(done.returncode, done.stdout + done.stderr, results)


@pytest.fixture(scope="module")
def runs(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The four runs, in order, and what openstacksdk saw after the first."""
    if not ANSIBLE_PLAYBOOK.exists():
        pytest.fail(f"{ANSIBLE_PLAYBOOK} is missing: install dcsim-openstack[test] (it brings ansible)")
    home = tmp_path_factory.mktemp("ansible-home")
    (home / "tmp").mkdir()
    done = {"present": play(server, home, "present")}
    conn = openstack.connect(**auth(server))  # type: ignore[arg-type]
    done["seen"] = Run(0, json.dumps({
        "server": [s.status for s in conn.compute.servers(name="ansible-server")],
        "volume": [v.size for v in conn.block_storage.volumes(name="ansible-volume")],
        "subnet": [s.cidr for s in conn.network.subnets(name="ansible-subnet")],
        "rules": [r.port_range_min for g in conn.network.security_groups(name="ansible-sg")
                  for r in conn.network.security_group_rules(security_group_id=g.id)],
    }), {})  # fmt: skip
    done["present again"] = play(server, home, "present")
    done["absent"] = play(server, home, "absent")
    done["absent again"] = play(server, home, "absent")
    conn = openstack.connect(**auth(server))  # type: ignore[arg-type]
    done["gone"] = Run(0, json.dumps({
        "server": [s.id for s in conn.compute.servers(name="ansible-server")],
        "network": [n.id for n in conn.network.networks(name="ansible-net")],
    }), {})  # fmt: skip
    return done


@pytest.mark.parametrize("task", CREATES)
def test_first_run_creates(runs: dict[str, Run], task: str) -> None:
    run = runs["present"]
    assert run.returncode == 0, run.describe()
    assert run.results.get(task) == "changed", run.describe()


def test_what_was_made_is_what_openstacksdk_sees(runs: dict[str, Run]) -> None:
    seen = json.loads(runs["seen"].output)
    assert seen["server"] == ["ACTIVE"] and seen["volume"] == [1] and seen["subnet"] == ["192.168.88.0/24"]
    assert 443 in seen["rules"]
    assert runs["present"].results["server_info ansible-server"] == "ok"


@pytest.mark.parametrize("task", CREATES)
def test_second_run_changes_nothing(runs: dict[str, Run], task: str) -> None:
    run = runs["present again"]
    assert run.returncode == 0, run.describe()
    assert run.results.get(task) == "ok", run.describe()


@pytest.mark.parametrize("task", REMOVES)
def test_removal_then_rerun(runs: dict[str, Run], task: str) -> None:
    first, second = runs["absent"], runs["absent again"]
    assert first.returncode == 0 and first.results.get(task) == "changed", first.describe()
    # Nothing left to remove: ok, or skipped (the rule, whose group is gone).
    assert second.returncode == 0 and second.results.get(task) in ("ok", "skipping"), second.describe()
    assert "changed" not in second.results.values(), second.describe()


def test_everything_is_gone(runs: dict[str, Run]) -> None:
    assert json.loads(runs["gone"].output) == {"server": [], "network": []}
