"""Acceptance 5 and 6 in embedded mode: a drift.detected with auto-remediate runs
remediate-config-drift on that CI's node without a human, and its result carries the
correlation id; collect-facts writes facts the CMDB shows; audit-cis-ubuntu reports per control."""

from __future__ import annotations

import time
from typing import Any

from conftest import wait_run


def _client(make_client: Any, ansible_settings: dict[str, Any]) -> Any:
    return make_client(plugins={"ansible": ansible_settings})


def _ci_of(client: Any, node: str) -> dict[str, Any]:
    hostvars = client.get("/ansible/inventory").json()["_meta"]["hostvars"][node]
    ci: dict[str, Any] = client.get(f"/cmdb/cis/{hostvars['dcsim_ci_id']}").json()
    return ci


def _wait_event(client: Any, predicate: Any, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in client.get("/events?limit=1000").json()["items"]:
            if predicate(event):
                return dict(event)
        time.sleep(0.3)
    raise AssertionError("no such event")


def test_drift_detected_with_auto_remediate_puts_sshd_config_back(make_client, ansible_settings):
    client = _client(make_client, ansible_settings)
    node = client.get("/ansible/inventory").json()["ubuntu_nodes"]["hosts"][0]
    ci = _ci_of(client, node)
    nodes = client.sim.sim.nodes
    good = client.call(nodes.read_file, node, "/etc/ssh/sshd_config")
    drifted = good + "PermitRootLogin yes\nPasswordAuthentication yes\n"
    client.call(nodes.write_file, node, "/etc/ssh/sshd_config", drifted)
    event = {
        "type": "drift.detected",
        "data": {
            "ci": ci["id"],
            "field": "/etc/ssh/sshd_config",
            "desired": good,
            "actual": drifted,
            "severity": "high",
            "policy": {"name": "sshd", "auto_change_request": False, "auto_remediate": True},
            "correlation_id": "drift-test-7781",
        },
    }
    assert client.post("/events", json=event).status_code in (200, 201, 202)
    done = _wait_event(
        client,
        lambda e: e["type"] == "ansible.run.completed" and e["data"]["correlation_id"] == "drift-test-7781",
    )
    assert done["data"]["status"] == "successful", done
    assert done["data"]["trigger"] == "drift.detected" and done["data"]["playbook"] == "remediate-config-drift"
    assert client.call(nodes.read_file, node, "/etc/ssh/sshd_config") == good
    run = client.get(f"/ansible/runs/{done['data']['run_id']}").json()
    assert run["limit"] == node and run["requested_by"] == "trigger:drift-remediation"
    assert {t["host"] for t in run["changed_tasks"]} == {node}


def test_trigger_rules_are_listed_and_a_switched_off_rule_starts_nothing(make_client, ansible_settings):
    client = _client(make_client, ansible_settings)
    rules = {r["name"]: r for r in client.get("/ansible/triggers").json()}
    assert rules["drift-remediation"]["event_type"] == "drift.detected" and rules["drift-remediation"]["enabled"]
    assert rules["patch-runs"]["event_type"] == "patch.scheduled"
    switched = client.patch("/ansible/triggers/drift-remediation", json={"enabled": False})
    assert switched.status_code == 200 and switched.json()["enabled"] is False
    assert client.patch("/ansible/triggers/nope", json={"enabled": False}).status_code == 404
    node = client.get("/ansible/inventory").json()["ubuntu_nodes"]["hosts"][0]
    ci = _ci_of(client, node)
    data = {"ci": ci["id"], "field": "/etc/ssh/sshd_config", "desired": "x", "actual": "y",
            "policy": {"name": "p", "auto_remediate": True}, "correlation_id": "off-1"}  # fmt: skip
    client.post("/events", json={"type": "drift.detected", "data": data})
    client.post("/events", json={"type": "dcsim.started", "data": {}})
    client.call(client.sim.relay.drain)
    time.sleep(2)
    assert client.get("/ansible/runs").json()["total"] == 0


def test_collect_facts_reach_the_cmdb_and_audit_reports_per_control(make_client, ansible_settings):
    client = _client(make_client, ansible_settings)
    inventory = client.get("/ansible/inventory").json()
    hostvars = inventory["_meta"]["hostvars"]
    node = next(h for h in inventory["ubuntu_nodes"]["hosts"] if hostvars[h]["dcsim_ci_type"] == "vm")
    run = wait_run(client, client.post("/ansible/run", json={"playbook": "collect-facts", "limit": node}).json()["id"])
    assert run["status"] == "successful", client.get(f"/ansible/runs/{run['id']}/stdout").json()["stdout"]
    collected = _wait_event(client, lambda e: e["type"] == "ansible.facts_collected" and e["data"]["host"] == node)
    assert collected["data"]["run_id"] == run["id"]
    deadline = time.monotonic() + 30
    while "facts" not in (ci := _ci_of(client, node))["attributes"]:
        assert time.monotonic() < deadline, ci
        time.sleep(0.3)
    facts = ci["attributes"]["facts"]
    assert facts["kernel"] and facts["packages"] and isinstance(facts["ssh_port"], int)
    assert facts["ssh_public_key_fingerprint"].startswith("SHA256:")
    # A sync from the simulation (the VM powered off) rewrites the attributes: the facts stay.
    assert client.post(f"/sim/vms/{ci['name']}/power", json={"action": "off"}).status_code == 200
    deadline = time.monotonic() + 30
    while (ci := _ci_of(client, node))["attributes"].get("power_state") != "off" or "facts" not in ci["attributes"]:
        assert time.monotonic() < deadline, ci
        time.sleep(0.3)
    assert ci["attributes"]["facts"] == facts
    history = client.get(f"/cmdb/cis/{ci['id']}/history").json()
    assert any(str(h.get("actor", "")).startswith("ansible:run/") for h in history)

    audit = wait_run(client, client.post("/ansible/run", json={"playbook": "audit-cis-ubuntu"}).json()["id"])
    assert audit["status"] == "successful"
    events = client.get(f"/ansible/runs/{audit['id']}/events?limit=1000").json()["items"]
    stats = next(e for e in events if e["event"] == "playbook_on_stats")
    report = stats["data"]["artifact_data"]["cis_report"]
    assert sorted(report) == sorted(client.get("/ansible/inventory").json()["ubuntu_nodes"]["hosts"])
    controls = report[node]["controls"]
    assert len(controls) >= 5 and {c["status"] for c in controls} <= {"pass", "fail"}
