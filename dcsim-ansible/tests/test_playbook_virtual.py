"""Library playbooks through ansible-runner and real ansible-core on the nine seed nodes
of an embedded instance (virtual nodes, the dcsim_virtual connection)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from test_library_helpers import run_playbook

SEED_NODES = 9


@pytest.fixture
def seed(make_client: Any, recorder: Any) -> tuple[Any, dict[str, Any]]:
    """An embedded instance (the runner plugin off: these tests run ansible themselves) and its inventory."""
    client = make_client(recorder, disable_plugins=("ansible",))
    inventory = client.get("/cmdb/ansible/inventory").json()
    return client, inventory


def _read(client: Any, node: str, path: str) -> str:
    return str(client.call(client.sim.sim.nodes.read_file, node, path))


def test_inventory_selects_the_virtual_connection(seed):
    client, inventory = seed
    hosts = inventory["datacenter_nodes"]["hosts"]
    assert len(hosts) == SEED_NODES
    nodes_dir = Path(client.sim.settings.data_dir / "nodes").resolve()
    for host in hosts:
        hostvars = inventory["_meta"]["hostvars"][host]
        assert hostvars["ansible_connection"] == "dcsim_virtual"
        assert Path(hostvars["dcsim_nodes_dir"]) == nodes_dir
        assert (nodes_dir / host / "root" / "etc").is_dir()


def test_hello_world_runs_on_all_nine_seed_nodes(seed, tmp_path):
    _, inventory = seed
    hosts = set(inventory["datacenter_nodes"]["hosts"])
    run = run_playbook(tmp_path / "run", "hello-world", inventory)
    assert run.status == "successful", run.stdout
    assert run.hosts() == hosts
    assert not run.stats.get("failures") and not run.stats.get("dark")
    assert set(run.results("Ping the node")) == hosts
    assert all(r["ping"] == "pong" for r in run.results("Ping the node").values())
    assert all(" up " in r["stdout"] for r in run.results("Read the uptime").values())
    for host, result in run.results("Say hello").items():
        guest_os = inventory["_meta"]["hostvars"][host]["dcsim_guest_os"]
        assert ("Ubuntu 22.04" if guest_os == "ubuntu22" else "Red Hat Enterprise Linux 9") in result["msg"], result


def test_baseline_ubuntu_changes_the_trees_then_nothing(seed, tmp_path, recorder):
    client, inventory = seed
    ubuntu = set(inventory["ubuntu_nodes"]["hosts"])
    rhel = set(inventory["rhel_nodes"]["hosts"])
    untouched = {node: _read(client, node, "/etc/ssh/sshd_config") for node in rhel}

    first = run_playbook(tmp_path / "first", "baseline-ubuntu", inventory)
    assert first.status == "successful", first.stdout
    assert first.hosts() == ubuntu
    assert all(first.changed(host) > 0 for host in ubuntu), first.stats
    for node in ubuntu:
        sshd = _read(client, node, "/etc/ssh/sshd_config")
        assert "MaxAuthTries 4" in sshd and "PermitEmptyPasswords no" in sshd
        assert "kernel.kptr_restrict=2" in _read(client, node, "/etc/sysctl.conf")
        assert "dcsim-auditor" in _read(client, node, "/etc/passwd")
        assert "dcsim-admins:x:" in _read(client, node, "/etc/group")
        assert "Defaults    use_pty" in _read(client, node, "/etc/sudoers")
    assert {node: _read(client, node, "/etc/ssh/sshd_config") for node in rhel} == untouched
    # The controller's own files are not a node's.
    assert "dcsim-auditor" not in Path("/etc/passwd").read_text()

    second = run_playbook(tmp_path / "second", "baseline-ubuntu", inventory)
    assert second.status == "successful", second.stdout
    assert all(second.changed(host) == 0 for host in ubuntu), second.stats

    # Written through core's backend: its watcher reported the change on the bus.
    deadline = time.monotonic() + 10
    node = sorted(ubuntu)[0]
    while time.monotonic() < deadline:
        seen = [e for e in recorder.events if e.type == "node.file_changed" and e.data["node"] == node]
        if any(e.data["path"] == "/etc/ssh/sshd_config" and "+MaxAuthTries 4" in e.data["diff"] for e in seen):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"no node.file_changed for {node}'s sshd_config: {recorder.types('node.')}")


def test_audit_cis_ubuntu_reports_pass_or_fail_per_control(seed, tmp_path):
    client, inventory = seed
    node = sorted(inventory["ubuntu_nodes"]["hosts"])[0]
    before = run_playbook(tmp_path / "before", "audit-cis-ubuntu", inventory, limit=node)
    assert before.status == "successful", before.stdout
    report = before.results("Set the report")[node]["ansible_facts"]["cis_report"]
    statuses = {c["id"]: c["status"] for c in report["controls"]}
    assert len(statuses) >= 15 and set(statuses.values()) == {"pass", "fail"}
    # The seed's sshd_config sets no MaxAuthTries, and its sysctl.conf does forward no packets.
    assert statuses["5.2.18"] == "fail" and statuses["3.2.2"] == "pass"
    assert int(report["failed"]) == list(statuses.values()).count("fail")
    assert before.changed(node) == 0

    assert run_playbook(tmp_path / "baseline", "baseline-ubuntu", inventory, limit=node).status == "successful"
    after = run_playbook(tmp_path / "after", "audit-cis-ubuntu", inventory, limit=node)
    report = after.results("Set the report")[node]["ansible_facts"]["cis_report"]
    assert {c["status"] for c in report["controls"]} == {"pass"}, report
    assert int(report["failed"]) == 0

    strict = run_playbook(
        tmp_path / "strict", "audit-cis-ubuntu", inventory, limit=node, extravars={"audit_fail_on_findings": True}
    )
    assert strict.status == "successful"
    client.call(client.sim.sim.nodes.write_file, node, "/etc/ssh/sshd_config", "PermitRootLogin yes\n")
    failing = run_playbook(
        tmp_path / "failing", "audit-cis-ubuntu", inventory, limit=node, extravars={"audit_fail_on_findings": True}
    )
    assert failing.status == "failed"
    report = failing.results("Set the report")[node]["ansible_facts"]["cis_report"]
    assert {c["id"]: c["status"] for c in report["controls"]}["5.2.7"] == "fail"


def test_collect_facts_sets_dcsim_cmdb_facts(seed, tmp_path):
    client, inventory = seed
    node = sorted(inventory["rhel_nodes"]["hosts"])[0]
    run = run_playbook(tmp_path / "run", "collect-facts", inventory, limit=node)
    assert run.status == "successful", run.stdout
    facts = run.results("Set dcsim_cmdb_facts")[node]["ansible_facts"]["dcsim_cmdb_facts"]
    packages = client.call(client.sim.sim.nodes.packages, node)
    assert {p["name"]: p["version"] for p in facts["packages"]} == packages
    assert facts["kernel"] == packages["kernel"] + ".x86_64"
    assert facts["os_release"]["ID"] == "rhel"
    assert facts["ssh_port"] == 22
    assert facts["ssh_public_key_fingerprint"].startswith("SHA256:")
    assert {"name": "sshd.service", "state": "running"} in facts["services"]
    assert run.changed(node) == 0


def test_patch_ubuntu_updates_the_package_inventory_through_core(seed, tmp_path):
    client, inventory = seed
    node = sorted(inventory["ubuntu_nodes"]["hosts"])[0]
    nodes = client.sim.sim.nodes
    installed = client.call(nodes.packages, node)
    advisories = [
        {"id": "USN-0001-1", "package": "openssl", "fixed_version": "3.0.2-0ubuntu1.16"},
        {"id": "USN-0002-1", "package": "curl", "fixed_version": "7.58.0-2ubuntu3"},  # older: not applied
        {"id": "USN-0003-1", "package": "not-installed", "fixed_version": "1.0"},
    ]
    extra = {"patch_advisories": advisories}
    first = run_playbook(tmp_path / "first", "patch-ubuntu", inventory, extravars=extra, limit=node)
    assert first.status == "successful", first.stdout
    after = client.call(nodes.packages, node)
    assert after == {**installed, "openssl": "3.0.2-0ubuntu1.16"}
    assert first.results("Report what was patched")[node]["ansible_facts"]["patch_result"]["advisories"] == [
        "USN-0001-1"
    ]
    second = run_playbook(tmp_path / "second", "patch-ubuntu", inventory, extravars=extra, limit=node)
    assert second.status == "successful" and second.changed(node) == 0


def test_remediate_config_drift_puts_sshd_config_back(seed, tmp_path):
    client, inventory = seed
    node = sorted(inventory["rhel_nodes"]["hosts"])[0]
    good = _read(client, node, "/etc/ssh/sshd_config")
    client.call(client.sim.sim.nodes.write_file, node, "/etc/ssh/sshd_config", good + "PermitRootLogin yes\n")
    extra = {"target": node, "drift_field": "/etc/ssh/sshd_config", "drift_desired": good}
    first = run_playbook(tmp_path / "first", "remediate-config-drift", inventory, extravars=extra)
    assert first.status == "successful", first.stdout
    assert first.changed(node) > 0 and first.hosts() == {node}
    assert _read(client, node, "/etc/ssh/sshd_config") == good
    second = run_playbook(tmp_path / "second", "remediate-config-drift", inventory, extravars=extra)
    assert second.status == "successful" and second.changed(node) == 0
