"""Acceptance 2 through the runner: library playbooks on the seed's virtual nodes (embedded mode)."""

from __future__ import annotations

from typing import Any

from conftest import wait_run

SEED_NODES = 9


def _client(make_client: Any, ansible_settings: dict[str, Any]) -> Any:
    return make_client(plugins={"ansible": ansible_settings})


def test_hello_world_runs_on_all_nine_seed_nodes(make_client, ansible_settings):
    client = _client(make_client, ansible_settings)
    inventory = client.get("/ansible/inventory").json()
    hosts = inventory["datacenter_nodes"]["hosts"]
    assert len(hosts) == SEED_NODES
    assert {inventory["_meta"]["hostvars"][h]["ansible_connection"] for h in hosts} == {"dcsim_virtual"}
    answer = client.post("/ansible/run", json={"playbook": "hello-world"})
    assert answer.status_code == 202, answer.text
    run = wait_run(client, answer.json()["id"], timeout=300)
    assert run["status"] == "successful", client.get(f"/ansible/runs/{run['id']}/stdout").json()["stdout"]
    assert sorted(run["stats"]) == sorted(hosts)
    assert all(s["failures"] == 0 and s["unreachable"] == 0 and s["ok"] > 0 for s in run["stats"].values())


def test_baseline_ubuntu_changes_virtual_trees_once(make_client, ansible_settings):
    client = _client(make_client, ansible_settings)
    ubuntu = client.get("/ansible/inventory").json()["ubuntu_nodes"]["hosts"]
    node = ubuntu[0]
    nodes = client.sim.sim.nodes
    before = client.call(nodes.read_file, node, "/etc/ssh/sshd_config")
    first = wait_run(client, client.post("/ansible/run", json={"playbook": "baseline-ubuntu"}).json()["id"], 300)
    assert first["status"] == "successful", client.get(f"/ansible/runs/{first['id']}/stdout").json()["stdout"]
    assert sorted(first["stats"]) == sorted(ubuntu)
    assert all(s["changed"] > 0 for s in first["stats"].values())
    assert client.call(nodes.read_file, node, "/etc/ssh/sshd_config") != before
    second = wait_run(client, client.post("/ansible/run", json={"playbook": "baseline-ubuntu"}).json()["id"], 300)
    assert second["status"] == "successful"
    assert all(s["changed"] == 0 for s in second["stats"].values()), second["changed_tasks"]


def test_a_library_run_never_reaches_the_controller(make_client, ansible_settings):
    client = _client(make_client, ansible_settings)
    body = {"playbook": "hello-world", "extra_vars": {"target": "localhost"}}
    run = wait_run(client, client.post("/ansible/run", json=body).json()["id"], timeout=120)
    assert run["status"] == "successful" and run["stats"] == {}
    stdout = client.get(f"/ansible/runs/{run['id']}/stdout").json()["stdout"]
    assert "no hosts matched" in stdout
    refused = client.post(
        "/ansible/run", json={"playbook": "hello-world", "extra_vars": {"ansible_connection": "local"}}
    )
    assert refused.status_code == 400
    assert refused.json()["errors"] == [{"field": "extra_vars.ansible_connection", "message": "ansible_* is reserved"}]
