"""Acceptance 2 in embedded mode with dcsim-ucs and the runner installed: a blade's firmware
changed is firmware drift (the UCS source, against the service profile's policy), a VM
powered off behind the CMDB's back is state drift, a package removed from a node is
package drift once the runner's collect-facts reports it; and a drill with UCS faults
in the mix still scores recall and precision 1.0."""

from __future__ import annotations

from typing import Any

from conftest import bus_event, wait_for

from dcsim.drift import drill
from dcsim.drift.service import DriftService


def _drift_events(client: Any, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    items: list[dict[str, Any]] = client.get(f"/drift/events?{query}").json()["items"]
    return items


def _run(client: Any, playbook: str, limit: str) -> dict[str, Any]:
    run_id = client.post("/ansible/run", json={"playbook": playbook, "limit": limit}).json()["id"]
    run: dict[str, Any] = wait_for(
        lambda: (r := client.get(f"/ansible/runs/{run_id}").json())["status"] in ("successful", "failed") and r,
        timeout=180,
    )
    assert run["status"] == "successful", client.get(f"/ansible/runs/{run_id}/stdout").text
    return run


def test_a_blades_firmware_changed_is_firmware_drift_against_its_profile(make_client, ansible_settings):
    client = make_client(plugins={"ansible": ansible_settings})
    sources = client.sim.services.get(DriftService)
    assert "ucs-firmware" in sources.sources.names()
    blade = client.get("/sim/state").json()["objects"]["blade"][0]
    fault = client.post("/sim/inject/firmware-mismatch", json={"blade": blade["name"], "version": "9.9(9z)"})
    assert fault.status_code in (200, 201), fault.text
    event = wait_for(lambda: _drift_events(client, field="firmware"), timeout=10)[0]
    assert (event["ci_name"], event["ci_type"], event["actual"]) == (blade["name"], "blade", "9.9(9z)")
    assert event["desired"] == blade["firmware"] and event["category"] == "Firmware"
    assert event["policy"] == "policy-firmware"
    change = wait_for(lambda: client.get("/itsm/changes").json()["items"], timeout=10)
    assert any(c["correlation_id"] == event["correlation_id"] for c in change)
    assert client.delete(f"/sim/inject/{fault.json()['id']}").status_code == 200
    wait_for(lambda: _drift_events(client, field="firmware", state="resolved"), timeout=10)
    score = client.get("/drift/score").json()
    assert score["injected"] == 1 and score["recall"] == 1.0 and score["precision"] == 1.0


def test_a_vm_powered_off_behind_the_cmdbs_back_is_state_drift(make_client, ansible_settings):
    client = make_client(plugins={"ansible": ansible_settings})
    vm = next(v for v in client.get("/sim/vms").json()["items"] if v.get("node") and v["power_state"] == "on")
    ci_before = next(c for c in client.get("/cmdb/cis?limit=500").json()["items"] if c["name"] == vm["name"])
    client.post("/drift/truth/changes", json={"kind": "power", "node": vm["node"]["name"], "state": "off"})
    event = wait_for(lambda: _drift_events(client, field="power_state"), timeout=10)[0]
    assert (event["ci"], event["desired"], event["actual"]) == (ci_before["id"], "on", "off")
    power_event = bus_event(client, lambda e: e["type"] == "vm.power_changed" and e["data"]["id"] == vm["id"])
    assert power_event is not None and power_event["data"]["reason"] == "external"


def test_a_package_removed_is_package_drift_from_collected_facts(make_client, ansible_settings):
    client = make_client(plugins={"ansible": ansible_settings})
    node = client.get("/ansible/inventory").json()["ubuntu_nodes"]["hosts"][0]
    _run(client, "collect-facts", node)
    wait_for(lambda: bus_event(client, lambda e: e["type"] == "ansible.facts_collected"), timeout=30)
    nodes = client.sim.sim.nodes
    packages = client.call(nodes.packages, node)
    removed = sorted(packages)[0]
    client.call(nodes.set_packages, node, {k: v for k, v in packages.items() if k != removed})
    assert _drift_events(client, category="Package") == []
    _run(client, "collect-facts", node)
    event = wait_for(lambda: _drift_events(client, category="Package"), timeout=30)[0]
    assert (event["field"], event["desired"], event["actual"]) == (f"packages.{removed}", "installed", "absent")
    assert event["node"] is None and event["ci_type"] == "vm"


def test_a_drill_with_vendor_faults_in_the_mix_scores_recall_and_precision_one(make_client, capsys):
    client = make_client(disable_plugins=("ansible",))
    blades = client.get("/sim/state").json()["objects"]["blade"]
    for blade in blades[:2]:
        made = client.post("/sim/inject/firmware-mismatch", json={"blade": blade["name"], "version": "9.9(9z)"})
        assert made.status_code in (200, 201), made.text
    result = drill.run(client, size=24)
    out = capsys.readouterr().out
    with capsys.disabled():
        print("\nplatform drill scorecard:\n" + out)
    assert result["injected"] >= 26 and result["recall"] == 1.0 and result["precision"] == 1.0, out
    sources = {item["source"] for item in client.get("/drift/truth?limit=500").json()["items"]}
    assert "fault:firmware-mismatch" in sources and "out-of-band:file" in sources
