"""Patch acceptance 4 on docker nodes: the runner's ``patch-ubuntu`` over real SSH changes
the package inventory inside the container, the re-scan reads it back as compliant, and
the CI without an approved change is skipped.

The estate is this module's own: two Ubuntu VMs ``patch-lab-u1``/``-u2`` on free ports,
an instance of its own (never the seed's ports 22001-22009)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import wait_for

from dcsim.sim.nodes.docker.instances import container_name

pytestmark = pytest.mark.docker

INSTANCE = "patch-lab"
POLICY = {"id": "policy-lab-ubuntu", "name": "lab Ubuntu", "os_type": "ubuntu22", "target_ci_tags": {"platform": "lab"},
          "patch_level": "high", "max_parallel": 2}  # fmt: skip


def test_docker_nodes_patched_over_ssh_to_compliant_with_the_change_gate(docker_engine, lab_client):
    client, lab = lab_client
    assert client.post("/patch/policies", json=POLICY).status_code == 201
    cis = {ci["ci_name"]: ci for ci in client.get("/patch/compliance").json()["cis"]}
    first, second = sorted(lab.nodes)
    assert cis[first]["policy"] == "policy-lab-ubuntu" and cis[first]["compliance_status"] == "non_compliant"
    now = datetime.now(UTC)
    window = {"start": (now - timedelta(minutes=1)).isoformat(), "end": (now + timedelta(hours=1)).isoformat()}
    change = client.post("/itsm/changes", json={"title": "lab patching", "type": "standard", "window": window,
                                                "affected_cis": [cis[first]["ci_id"]]}).json()  # fmt: skip

    run_id = client.post("/patch/runs", json={"policy": "policy-lab-ubuntu"}).json()["id"]
    run = wait_for(
        lambda: (r := client.get(f"/patch/runs/{run_id}").json())["state"] in ("completed", "failed") and r,
        timeout=300, interval=1.0,
    )  # fmt: skip
    assert run["state"] == "completed", run
    states = {ci["ci_name"]: ci for ci in run["cis"]}
    assert states[first]["state"] == "patched" and states[second]["state"] == "skipped"
    assert client.get(f"/ansible/runs/{states[first]['ansible_run']}").json()["playbook"] == "patch-ubuntu"

    # What the container holds now, read with docker exec: the fixed versions.
    container = docker_engine.containers.get(container_name(client.sim.settings, first))
    inside = json.loads(container.exec_run(["cat", "/var/lib/dcsim/packages.json"]).output)
    assert inside["openssl"] == "3.0.2-0ubuntu1.17" and inside["openssh-server"] == "1:8.9p1-3ubuntu0.10"
    after = {ci["ci_name"]: ci for ci in client.get("/patch/compliance").json()["cis"]}
    assert after[first]["compliance_status"] == "compliant" and after[first]["installed"] == inside
    assert after[second]["compliance_status"] == "non_compliant"
    assert client.get(f"/itsm/changes/{change['number']}").json()["state"] == "completed"
