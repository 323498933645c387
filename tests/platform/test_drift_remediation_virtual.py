"""Acceptance 1 on a virtual node in embedded mode, with the runner (dcsim-ansible) and real
ansible-core: sshd_config changed in the node is drift with its diff within 2 s, ITSM opens
the change request, the runner's remediate-config-drift puts the file back and the event
is resolved; a remediation made to fail opens an incident."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from conftest import auto_remediate, bus_event, wait_for

SSHD = "/etc/ssh/sshd_config"
PROJECT = Path(__file__).parent / "project"


def _drift_events(client: Any, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    items: list[dict[str, Any]] = client.get(f"/drift/events?{query}").json()["items"]
    return items


def _ubuntu_node(client: Any) -> str:
    return str(client.get("/ansible/inventory").json()["ubuntu_nodes"]["hosts"][0])


def test_sshd_config_drift_is_remediated_through_the_runner_and_resolved(make_client, ansible_settings):
    client = make_client(plugins={"ansible": ansible_settings})
    auto_remediate(client)
    node = _ubuntu_node(client)
    nodes = client.sim.sim.nodes
    good = client.call(nodes.read_file, node, SSHD)
    started = time.monotonic()
    client.call(nodes.write_file, node, SSHD, good + "PermitRootLogin yes\nPasswordAuthentication yes\n")
    event = wait_for(lambda: _drift_events(client, field=SSHD), timeout=5, interval=0.05)[0]
    took = time.monotonic() - started
    assert took < 2.0, took
    assert "+PermitRootLogin yes" in event["diff"] and event["node"] == node and event["desired"] == good

    change = wait_for(lambda: client.get("/itsm/changes").json()["items"], timeout=10)[0]
    assert change["correlation_id"] == event["correlation_id"]

    done = wait_for(
        lambda: bus_event(client, lambda e: e["type"] == "ansible.run.completed"
                          and e["data"]["correlation_id"] == event["correlation_id"]),
        timeout=180,
    )  # fmt: skip
    assert done["data"]["status"] == "successful", done
    assert done["data"]["playbook"] == "remediate-config-drift"
    assert client.call(nodes.read_file, node, SSHD) == good
    resolved = wait_for(lambda: _drift_events(client, field=SSHD, state="resolved"), timeout=30)[0]
    assert resolved["id"] == event["id"]
    resolved_bus = wait_for(lambda: bus_event(client, lambda e: e["type"] == "drift.resolved"), timeout=10)
    assert resolved_bus["data"]["id"] == event["id"]
    assert client.get("/itsm/incidents").json()["total"] == 0
    score = client.get("/drift/score").json()
    assert score["injected"] == 0 and score["detections"] == 1


def test_a_remediation_made_to_fail_opens_an_incident(make_client, ansible_settings):
    settings = ansible_settings | {"project_dirs": [str(PROJECT)]}
    client = make_client(plugins={"ansible": settings})
    auto_remediate(client, remediation="remediate-config-drift-unvalidated")
    node = _ubuntu_node(client)
    made = client.post("/drift/truth/changes", json={"kind": "file", "node": node, "path": SSHD,
                                                    "content": "PermitRootLogin yes\n"})  # fmt: skip
    assert made.status_code == 201
    event = wait_for(lambda: _drift_events(client, field=SSHD), timeout=5, interval=0.05)[0]
    escalated = wait_for(lambda: _drift_events(client, state="escalated"), timeout=180)[0]
    assert escalated["id"] == event["id"] and escalated["incident"] and escalated["remediation_run"]
    run = client.get(f"/ansible/runs/{escalated['remediation_run']}").json()
    assert run["status"] == "failed" and run["playbook"] == "remediate-config-drift-unvalidated"
    incident = client.get(f"/itsm/incidents/{escalated['incident']}").json()
    assert incident["correlation_id"] == event["correlation_id"]
    assert client.call(client.sim.sim.nodes.read_file, node, SSHD) == "PermitRootLogin yes\n"
    score = client.get("/drift/score").json()
    assert (score["injected"], score["recall"], score["precision"]) == (1, 1.0, 1.0)
