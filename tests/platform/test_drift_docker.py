"""Acceptance 1 and 2 on docker nodes (inotify inside the node, real SSH for the runner):
sshd_config drift detected with its diff within 2 s, remediated through the runner and
resolved; a remediation that cannot succeed escalates to an incident; a container stopped
behind the CMDB's back is power drift.

The estate is this module's own: two Ubuntu VMs ``drift-lab-u1``/``-u2`` on free ports,
an instance of its own (never the seed's ports 22001-22009)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import auto_remediate, bus_event, wait_for

from dcsim.sim.nodes.docker.instances import container_name

pytestmark = pytest.mark.docker

SSHD = "/etc/ssh/sshd_config"
INSTANCE = "drift-lab"


def _drift_events(client: Any, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    items: list[dict[str, Any]] = client.get(f"/drift/events?{query}").json()["items"]
    return items


def _container(docker_engine: Any, client: Any, node: str) -> Any:
    return docker_engine.containers.get(container_name(client.sim.settings, node))


def test_docker_node_drift_remediated_escalated_and_powered_off_behind_the_cmdbs_back(docker_engine, lab_client):
    client, lab = lab_client
    auto_remediate(client)
    first, second = sorted(lab.nodes)
    nodes = client.sim.sim.nodes

    # 1. sshd_config changed inside the container: drift with its diff, remediated over SSH.
    good = client.call(nodes.read_file, first, SSHD)
    started = time.monotonic()
    client.call(nodes.write_file, first, SSHD, good + "PermitRootLogin yes\n")
    event = wait_for(lambda: _drift_events(client, field=SSHD), timeout=5, interval=0.05)[0]
    took = time.monotonic() - started
    assert took < 2.0, took
    assert "+PermitRootLogin yes" in event["diff"] and event["node"] == first and event["desired"] == good
    wait_for(
        lambda: [
            c for c in client.get("/itsm/changes").json()["items"] if c["correlation_id"] == event["correlation_id"]
        ],
        timeout=10,
    )
    done = wait_for(
        lambda: bus_event(client, lambda e: e["type"] == "ansible.run.completed"
                          and e["data"]["correlation_id"] == event["correlation_id"]),
        timeout=300,
    )  # fmt: skip
    assert done["data"]["status"] == "successful", client.get(f"/ansible/runs/{done['data']['run_id']}/stdout").text
    assert client.call(nodes.read_file, first, SSHD) == good
    assert wait_for(lambda: _drift_events(client, field=SSHD, state="resolved"), timeout=30)[0]["id"] == event["id"]

    # 2. sshd_config replaced by a directory: the runner cannot put the file back; an incident opens.
    container = _container(docker_engine, client, second)
    code, output = container.exec_run(["sh", "-c", f"rm {SSHD} && mkdir {SSHD}"])
    assert code == 0, output
    broken = wait_for(lambda: _drift_events(client, field=SSHD, ci=second), timeout=5, interval=0.05)[0]
    assert broken["actual"] is None and broken["desired"]
    escalated = wait_for(lambda: _drift_events(client, state="escalated"), timeout=300)[0]
    assert escalated["id"] == broken["id"] and escalated["incident"]
    assert client.get(f"/ansible/runs/{escalated['remediation_run']}").json()["status"] == "failed"
    assert client.get(f"/itsm/incidents/{escalated['incident']}").json()["correlation_id"] == broken["correlation_id"]

    # 3. A container stopped behind the CMDB's back: the VM's power state drifts.
    container.stop(timeout=5)
    power = wait_for(lambda: _drift_events(client, field="power_state"), timeout=30)[0]
    assert (power["ci_name"], power["desired"], power["actual"]) == (second, "on", "off")
    assert power["category"] == "State"
