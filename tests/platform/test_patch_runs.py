"""Acceptance 4 of issue #15 (patch half) with the runner (dcsim-ansible) and real
ansible-core on virtual nodes in embedded mode: a run without an approved change skips
those CIs; with one, it patches through ``patch-rhel``, re-scans to compliant and
completes the change; a forced failure rolls back to the snapshot and opens an incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import bus_event, wait_for

POLICY = "policy-rhel9-baseline"
PROJECT = Path(__file__).parent / "project_patch"


def _finished(client: Any, run_id: str, timeout: float = 300) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        run: dict[str, Any] = client.get(f"/patch/runs/{run_id}").json()
        return run if run["state"] in ("completed", "failed", "cancelled") else None

    found: dict[str, Any] = wait_for(probe, timeout=timeout, interval=1.0)
    return found


def _approved_change(client: Any, cis: list[str]) -> dict[str, Any]:
    now = datetime.now(UTC)
    window = {"start": (now - timedelta(minutes=5)).isoformat(), "end": (now + timedelta(hours=2)).isoformat()}
    answer = client.post("/itsm/changes", json={"title": "monthly RHEL patching", "type": "standard",
                                                "affected_cis": cis, "window": window,
                                                "rollback_plan": "revert to the pre-patch snapshot"})  # fmt: skip
    assert answer.status_code == 201, answer.text
    change: dict[str, Any] = answer.json()
    assert change["state"] == "approved"
    return change


def _rhel(client: Any) -> dict[str, dict[str, Any]]:
    cis = client.get("/patch/compliance?os=rhel9").json()["cis"]
    return {ci["ci_name"]: ci for ci in cis}


def _no_reboot(client: Any, **more: Any) -> None:
    policy = client.get(f"/patch/policies/{POLICY}").json()
    policy = {k: v for k, v in policy.items() if k != "next_run_at"} | {"reboot_required": False, **more}
    assert client.put(f"/patch/policies/{POLICY}", json=policy).status_code == 200, policy


def test_a_run_patches_cis_with_an_approved_change_through_ansible_and_skips_the_others(make_client, ansible_settings):
    client = make_client(plugins={"ansible": ansible_settings})
    _no_reboot(client)
    before = _rhel(client)
    assert all(ci["compliance_status"] == "non_compliant" for ci in before.values())
    chosen = [before["vm-001"]["ci_id"], before["c01s01"]["ci_id"]]
    change = _approved_change(client, chosen)

    run = _finished(client, client.post("/patch/runs", json={"policy": POLICY}).json()["id"])
    assert run["state"] == "completed", run
    states = {ci["ci_name"]: ci for ci in run["cis"]}
    assert {n for n, ci in states.items() if ci["state"] == "patched"} == {"vm-001", "c01s01"}
    skipped = {n for n, ci in states.items() if ci["state"] == "skipped"}
    assert skipped == set(before) - {"vm-001", "c01s01"} and skipped
    assert all("no approved change" in states[n]["reason"] for n in skipped)
    assert states["vm-001"]["change"] == change["number"] and states["vm-001"]["snapshot"]
    assert [s["name"] for s in run["steps"]] == ["plan", "validate", "snapshot", "execute", "verify", "report",
                                                 "alert", "completed"]  # fmt: skip

    # Real ansible-core ran patch-rhel on exactly the two nodes, answering the run's correlation id.
    ansible_run = client.get(f"/ansible/runs/{states['vm-001']['ansible_run']}").json()
    assert ansible_run["playbook"] == "patch-rhel" and ansible_run["status"] == "successful"
    scheduled = bus_event(client, lambda e: e["type"] == "patch.scheduled")
    assert scheduled is not None and sorted(scheduled["data"]["targets"]) == sorted(chosen)
    completed = bus_event(client, lambda e: e["type"] == "ansible.run.completed"
                          and e["data"]["correlation_id"] == scheduled["data"]["correlation_id"])  # fmt: skip
    assert completed is not None and set(completed["data"]["stats"]) == {before["vm-001"]["node"],
                                                                         before["c01s01"]["node"]}  # fmt: skip

    # Re-scanned to compliant: the node's inventory holds the fixed versions.
    after = _rhel(client)
    for name in ("vm-001", "c01s01"):
        assert after[name]["compliance_status"] == "compliant" and after[name]["last_patched"]
        installed = client.call(client.sim.sim.nodes.packages, after[name]["node"])
        for pending in before[name]["pending_patches"]:
            if pending["severity"] in ("high", "critical"):
                assert installed[pending["package"]] == pending["fixed_version"]
        assert states[name]["patched"]["openssl"] == "3.0.7-28.el9_4"
    assert after["vm-003"]["compliance_status"] == "non_compliant"
    assert client.get(f"/itsm/changes/{change['number']}").json()["state"] == "completed"
    done = bus_event(client, lambda e: e["type"] == "patch.run.completed")
    assert done is not None and done["data"]["state"] == "completed" and sorted(done["data"]["skipped"]) == sorted(
        before[n]["ci_id"] for n in skipped)  # fmt: skip
    assert client.get("/itsm/incidents").json()["total"] == 0


def test_a_forced_failure_rolls_back_to_the_snapshot_and_opens_an_incident(make_client, ansible_settings):
    client = make_client(plugins={"ansible": ansible_settings | {"project_dirs": [str(PROJECT)]}})
    _no_reboot(client, playbook="patch-rhel-then-fail")
    before = _rhel(client)
    vm = before["vm-003"]
    nodes = client.sim.sim.nodes
    inventory = client.call(nodes.packages, vm["node"])
    change = _approved_change(client, [vm["ci_id"]])

    run = _finished(client, client.post("/patch/runs", json={"policy": POLICY}).json()["id"])
    assert run["state"] == "failed", run
    ci = next(c for c in run["cis"] if c["ci_id"] == vm["ci_id"])
    assert ci["state"] == "rolled_back" and "rolled back to the snapshot" in ci["reason"], ci
    failed_run = client.get(f"/ansible/runs/{ci['ansible_run']}").json()
    assert failed_run["playbook"] == "patch-rhel-then-fail" and failed_run["status"] == "failed"

    # The snapshot: the VM's was taken in the simulation, and the inventory is back as it was.
    snapshots = client.get(f"/sim/vms/{vm['ci_name']}/snapshots").json()
    assert [s["id"] for s in snapshots] == [ci["snapshot"]]
    assert client.call(nodes.packages, vm["node"]) == inventory
    rollback = bus_event(client, lambda e: e["type"] == "ansible.run.completed"
                         and e["data"]["correlation_id"].endswith(f":rollback-{vm['ci_id']}"))  # fmt: skip
    assert rollback is not None and rollback["data"]["status"] == "successful"
    assert rollback["data"]["playbook"] == "remediate-package-drift"
    assert _rhel(client)["vm-003"]["compliance_status"] == "non_compliant"

    incident = client.get(f"/itsm/incidents/{ci['incident']}").json()
    assert vm["ci_id"] in incident["affected_cis"] and incident["correlation_id"] == run["correlation_id"]
    assert "vm-003" in incident["title"]
    assert client.get(f"/itsm/changes/{change['number']}").json()["state"] == "failed"


def test_a_cancelled_run_finishes_the_batch_with_the_runner_and_stops(make_client, ansible_settings):
    client = make_client(plugins={"ansible": ansible_settings})
    _no_reboot(client, max_parallel=1)
    before = _rhel(client)
    first, second = before["c01s01"], before["c01s03"]
    change = _approved_change(client, [first["ci_id"], second["ci_id"]])
    started = client.post("/patch/runs", json={"policy": POLICY}).json()
    wait_for(lambda: bus_event(client, lambda e: e["type"] == "patch.scheduled"), timeout=60)
    cancelled = client.post(f"/patch/runs/{started['id']}/cancel")
    assert cancelled.status_code == 202, cancelled.text
    run = _finished(client, started["id"])
    assert run["state"] == "cancelled", run
    states = {ci["ci_name"]: ci["state"] for ci in run["cis"]}
    assert states["c01s01"] == "patched" and states["c01s03"] == "cancelled"
    assert _rhel(client)["c01s03"]["compliance_status"] == "non_compliant"
    # Half done: the change stays in progress for someone to decide.
    assert client.get(f"/itsm/changes/{change['number']}").json()["state"] == "in_progress"
    assert client.post(f"/patch/runs/{started['id']}/cancel").status_code == 409
