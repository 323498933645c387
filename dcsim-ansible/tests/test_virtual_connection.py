"""The ``dcsim_virtual`` connection: modules run against a node's tree, never the host;
a module or command it does not support fails naming it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_library_helpers import PlaybookRun, run_playbook

from dcsim.settings import Settings
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import NodeSpec
from dcsim.sim.nodes.virtual import VirtualNodes
from dcsim_ansible.plugins.virtual.modules import MODULES
from dcsim_ansible.plugins.virtual.payload import PayloadError, parse_payload, short_name

NODE = "vnode-01"
SPEC = Path(__file__).resolve().parents[2] / "specs" / "013-ansible.md"


@pytest.fixture
def nodes(tmp_path: Path) -> VirtualNodes:
    """A virtual backend with one Ubuntu node."""
    backend = VirtualNodes(Settings(data_dir=tmp_path / "data"))
    spec = NodeSpec(
        name=NODE, guest_os=GuestOs.UBUNTU22, ssh_port=2222, cpu=2, memory_mb=2048, power_state=PowerState.ON
    )
    asyncio.run(backend.ensure(spec))
    return backend


@pytest.fixture
def inventory(nodes: VirtualNodes) -> dict[str, Any]:
    """The node, with the host vars the virtual backend names for Ansible."""
    hostvars = {"ansible_host": "127.0.0.1", "ansible_port": 2222, "ansible_user": "root"}
    hostvars |= VirtualNodes.ansible_host_vars(nodes.settings)
    return {"_meta": {"hostvars": {NODE: hostvars}}, "all": {"children": ["nodes"]}, "nodes": {"hosts": [NODE]}}


def _play(tmp_path: Path, tasks: list[dict[str, Any]], name: str = "play.yml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump([{"hosts": "nodes", "gather_facts": False, "tasks": tasks}], sort_keys=False))
    return path


def _task(run: PlaybookRun, name: str, event: str) -> dict[str, Any]:
    return run.results(name, event)[NODE]


def test_the_backend_names_the_connection(nodes):
    hostvars = VirtualNodes.ansible_host_vars(nodes.settings)
    assert hostvars["ansible_connection"] == "dcsim_virtual"
    assert Path(hostvars["dcsim_nodes_dir"]) == nodes.nodes_dir.resolve()


def test_an_unsupported_module_fails_naming_it(tmp_path, inventory):
    play = _play(
        tmp_path,
        [{"name": "Fetch a URL", "ansible.builtin.get_url": {"url": "http://127.0.0.1:1/x", "dest": "/tmp/x"}}],
    )
    run = run_playbook(tmp_path / "run", play, inventory)
    assert run.status == "failed"
    result = _task(run, "Fetch a URL", "runner_on_failed")
    assert "get_url" in result["msg"] and "not supported on dc-sim virtual nodes" in result["msg"]
    assert result["unsupported_module"] == "ansible.modules.get_url"


def test_an_unsupported_command_fails_naming_it(tmp_path, inventory, nodes):
    play = _play(
        tmp_path,
        [
            {"name": "Known command", "ansible.builtin.command": "uname -r", "changed_when": False},
            {"name": "Unknown command", "ansible.builtin.shell": "rm -rf /etc"},
        ],
    )
    run = run_playbook(tmp_path / "run", play, inventory)
    assert _task(run, "Known command", "runner_on_ok")["stdout"] == "5.15.0-105-generic"
    failed = _task(run, "Unknown command", "runner_on_failed")
    assert failed["rc"] == 127 and "rm -rf /etc" in failed["stderr"]
    assert asyncio.run(nodes.read_file(NODE, "/etc/passwd"))
    assert Path("/etc/passwd").is_file()


def test_files_land_in_the_node_tree_never_on_the_host(tmp_path, inventory, nodes):
    marker = f"/etc/dcsim-{tmp_path.name}.conf"
    play = _play(
        tmp_path,
        [
            {"name": "Write", "ansible.builtin.copy": {"content": "hello\n", "dest": marker, "mode": "0600"}},
            {"name": "Stat", "ansible.builtin.stat": {"path": marker}, "register": "found"},
            {"name": "Directory", "ansible.builtin.file": {"path": "/srv/app", "state": "directory"}},
        ],
    )
    run = run_playbook(tmp_path / "run", play, inventory)
    assert run.status == "successful", run.stdout
    assert not Path(marker).exists()
    assert asyncio.run(nodes.read_file(NODE, marker)) == "hello\n"
    host_file = nodes.nodes_dir / NODE / "root" / marker.lstrip("/")
    assert host_file.stat().st_mode & 0o777 == 0o600
    assert _task(run, "Stat", "runner_on_ok")["stat"]["mode"] == "0600"
    assert (nodes.nodes_dir / NODE / "root" / "srv" / "app").is_dir()
    # Ansible's temporary files were cleaned up inside the node, too.
    assert not list((nodes.nodes_dir / NODE / "root" / "root" / ".ansible" / "tmp").glob("ansible-tmp-*"))


def test_a_path_leading_out_of_the_tree_is_refused(tmp_path, inventory, nodes):
    outside = tmp_path / "outside"
    outside.mkdir()
    (nodes.nodes_dir / NODE / "root" / "etc" / "escape").symlink_to(outside)
    play = _play(tmp_path, [{"name": "Escape", "ansible.builtin.copy": {"content": "x\n", "dest": "/etc/escape/file"}}])
    run = run_playbook(tmp_path / "run", play, inventory)
    assert run.status == "failed"
    assert not list(outside.iterdir())


def test_check_mode_changes_nothing(tmp_path, inventory, nodes):
    before = asyncio.run(nodes.read_file(NODE, "/etc/ssh/sshd_config"))
    play = _play(
        tmp_path,
        [
            {
                "name": "Edit",
                "ansible.builtin.lineinfile": {"path": "/etc/ssh/sshd_config", "regexp": "^Port ", "line": "Port 2200"},
            },
            {"name": "Install", "ansible.builtin.apt": {"name": "nginx=1.18.0-6ubuntu14", "state": "present"}},
        ],
    )
    run = run_playbook(tmp_path / "run", play, inventory, check=True)
    assert run.status == "successful", run.stdout
    assert run.changed(NODE) == 2
    assert asyncio.run(nodes.read_file(NODE, "/etc/ssh/sshd_config")) == before
    assert "nginx" not in asyncio.run(nodes.packages(NODE))


def test_packages_go_to_the_backend_inventory(tmp_path, inventory, nodes):
    play = _play(
        tmp_path,
        [
            {
                "name": "Install",
                "ansible.builtin.package": {"name": ["nginx=1.18.0-6ubuntu14", "jq"], "state": "present"},
            },
            {"name": "Remove", "ansible.builtin.apt": {"name": "vim-tiny", "state": "absent"}},
        ],
    )
    first = run_playbook(tmp_path / "first", play, inventory)
    assert first.status == "successful", first.stdout
    packages = asyncio.run(nodes.packages(NODE))
    assert packages["nginx"] == "1.18.0-6ubuntu14" and packages["jq"] == "1.0-dcsim1" and "vim-tiny" not in packages
    second = run_playbook(tmp_path / "second", play, inventory)
    assert second.changed(NODE) == 0


def test_services_and_reboot(tmp_path, inventory):
    play = _play(
        tmp_path,
        [
            {"name": "Stop cron", "ansible.builtin.service": {"name": "cron", "state": "stopped"}},
            {
                "name": "Boot id before",
                "ansible.builtin.command": "cat /proc/sys/kernel/random/boot_id",
                "register": "b",
            },
            {"name": "Reboot", "ansible.builtin.reboot": {"reboot_timeout": 30}},
            {
                "name": "Boot id after",
                "ansible.builtin.command": "cat /proc/sys/kernel/random/boot_id",
                "register": "a",
            },
            {"name": "Services", "ansible.builtin.service_facts": {}},
            {"name": "Unknown service", "ansible.builtin.service": {"name": "nosuch", "state": "started"}},
        ],
    )
    run = run_playbook(tmp_path / "run", play, inventory)
    assert _task(run, "Reboot", "runner_on_ok")["rebooted"] is True
    assert (
        _task(run, "Boot id before", "runner_on_ok")["stdout"] != _task(run, "Boot id after", "runner_on_ok")["stdout"]
    )
    services = _task(run, "Services", "runner_on_ok")["ansible_facts"]["services"]
    # cron is enabled: the reboot started it again.
    assert services["cron.service"]["state"] == "running"
    assert "nosuch" in _task(run, "Unknown service", "runner_on_failed")["msg"]


def test_payload_reading():
    with pytest.raises(PayloadError):
        parse_payload(b"#!/bin/sh\necho hello\n")
    payload = b'#!/usr/bin/python3\n...\n_ansiballz_main(\nansible_module=\'ping\',\nmodule_fqn=\'ansible.modules.ping\',\nparams=\'{"ANSIBLE_MODULE_ARGS": {"data": "hi", "_ansible_check_mode": true}}\',\n)\n'
    call = parse_payload(payload)
    assert (call.name, call.params(), call.check_mode) == ("ping", {"data": "hi"}, True)
    assert short_name("ansible_collections.ansible.posix.plugins.modules.sysctl") == "ansible.posix.sysctl"


def test_the_spec_lists_the_supported_modules():
    section = SPEC.read_text().split("## Virtual connection", 1)[1].split("\n## ", 1)[0]
    for name in MODULES:
        assert f"`{name}`" in section, f"spec 013 'Virtual connection' does not list {name}"


def test_edits_follow_the_real_modules_rules(tmp_path, inventory, nodes):
    play = _play(
        tmp_path,
        [
            {
                "name": "Absent from a missing file",
                "ansible.builtin.lineinfile": {"path": "/etc/none", "line": "x", "state": "absent"},
            },
            {
                "name": "Missing file",
                "ansible.builtin.lineinfile": {"path": "/etc/none", "line": "x"},
                "ignore_errors": True,
            },
            {
                "name": "Backrefs",
                "ansible.builtin.lineinfile": {
                    "path": "/etc/ssh/sshd_config",
                    "regexp": "^(ClientAliveInterval) \\d+",
                    "line": "\\1 120",
                    "backrefs": True,
                },
            },
            {
                "name": "Insert after",
                "ansible.builtin.lineinfile": {
                    "path": "/etc/hosts",
                    "insertafter": "^127\\.0\\.0\\.1",
                    "line": "10.0.0.9 repo",
                },
            },
            {
                "name": "Block",
                "ansible.builtin.blockinfile": {"path": "/etc/hosts", "block": "10.0.0.10 a\n10.0.0.11 b"},
            },
            {
                "name": "Sysctl",
                "ansible.posix.sysctl": {"name": "vm.swappiness", "value": "10", "sysctl_set": False, "reload": False},
            },
            {"name": "Raw", "ansible.builtin.raw": "echo hello"},
        ],
    )
    run = run_playbook(tmp_path / "run", play, inventory)
    assert run.status == "successful", run.stdout
    assert _task(run, "Absent from a missing file", "runner_on_ok")["changed"] is False
    assert _task(run, "Missing file", "runner_on_failed")["rc"] == 257
    assert "ClientAliveInterval 120" in asyncio.run(nodes.read_file(NODE, "/etc/ssh/sshd_config"))
    hosts = asyncio.run(nodes.read_file(NODE, "/etc/hosts")).splitlines()
    assert hosts[1] == "10.0.0.9 repo"
    assert hosts[-4:] == ["# BEGIN ANSIBLE MANAGED BLOCK", "10.0.0.10 a", "10.0.0.11 b", "# END ANSIBLE MANAGED BLOCK"]
    sysctl = asyncio.run(nodes.read_file(NODE, "/etc/sysctl.conf"))
    assert "vm.swappiness=10" in sysctl and "vm.swappiness = 30" not in sysctl
    assert _task(run, "Raw", "runner_on_ok")["stdout"].strip() == "hello"
    again = run_playbook(tmp_path / "again", play, inventory)
    assert again.changed(NODE) == 1  # raw always reports a change, like the real one
