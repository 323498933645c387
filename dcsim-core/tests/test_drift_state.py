"""State drift: power changed behind the CMDB's back, health from injected faults, package
sets from collected facts, and the reconcile sweep; escalation when remediation fails."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from test_drift_files import auto_remediate, events, first_node, wait

from dcsim import hookimpl
from dcsim.sim.model import PowerState, Vm


class FactsReporter:
    """Declares ``ansible.facts_collected`` and ``ansible.run.completed`` as the runner does,
    so that core's drift rules can be driven without the runner installed."""

    @hookimpl
    def dcsim_register_event_types(self, registry: Any) -> None:
        registry.add_catalogue({
            "ansible.facts_collected": ("facts of a host", {"ci_id": "", "host": "", "facts": "", "run_id": ""}),
            "ansible.run.completed": ("a run ended", {"run_id": "", "status": "", "correlation_id": ""}),
        })  # fmt: skip


def test_a_vm_powered_off_behind_the_cmdbs_back_is_state_drift_and_an_authorised_power_on_resolves_it(make_client):
    client = make_client(disable_plugins=("ansible",))
    vm, node = first_node(client)
    made = client.post("/drift/truth/changes", json={"kind": "power", "node": node, "state": "off"})
    assert made.status_code == 201, made.text
    assert made.json()["field"] == "power_state" and made.json()["source"] == "out-of-band:power"
    event = wait(lambda: events(client, field="power_state"))[0]
    assert (event["ci_name"], event["desired"], event["actual"]) == (vm["name"], "on", "off")
    assert (event["category"], event["policy"], event["state"]) == ("State", "policy-power-state", "open")
    assert client.get(f"/sim/vms/{vm['id']}").json()["power_state"] == "off"

    on = client.post(f"/sim/vms/{vm['id']}/power", json={"action": "on"})
    assert on.status_code in (200, 202), on.text
    resolved = wait(lambda: events(client, field="power_state", state="resolved"))
    assert resolved[0]["id"] == event["id"]


def test_a_power_change_through_dc_sim_is_no_drift(make_client):
    client = make_client(disable_plugins=("ansible",))
    vm, _ = first_node(client)
    assert client.post(f"/sim/vms/{vm['id']}/power", json={"action": "off"}).status_code in (200, 202)
    wait(lambda: [e for e in client.get("/events?limit=1000").json()["items"] if e["type"] == "vm.power_changed"])
    time.sleep(0.3)
    assert events(client, field="power_state") == []


def test_an_injected_host_failure_is_health_drift_until_cleared(make_client):
    client = make_client(disable_plugins=("ansible",))
    host = client.get("/sim/hosts").json()["items"][-1]["name"]
    fault = client.post("/sim/inject/host-failure", json={"host": host}).json()
    event = wait(lambda: events(client, field="health"))[0]
    assert (event["ci_name"], event["ci_type"], event["desired"], event["actual"]) == (host, "host", "ok", "failed")
    truth = client.get("/drift/truth").json()["items"]
    assert [(t["name"], t["source"]) for t in truth] == [(host, "fault:host-failure")]
    assert client.delete(f"/sim/inject/{fault['id']}").status_code == 200
    wait(lambda: events(client, field="health", state="resolved"))


def test_a_package_removed_from_collected_facts_is_package_drift(make_client):
    client = make_client(FactsReporter(), disable_plugins=("ansible",))
    vm, _ = first_node(client)
    ci = next(c for c in client.get("/cmdb/cis?limit=500").json()["items"] if c["name"] == vm["name"])
    facts = {"packages": {"openssh-server": ["9.6"], "openssl": ["3.0.13"], "curl": ["8.5"]}}
    data = {"ci_id": ci["id"], "host": vm["node"]["name"], "facts": facts, "run_id": "r1"}
    assert client.post("/events", json={"type": "ansible.facts_collected", "data": data}).status_code == 202
    time.sleep(0.5)
    assert events(client, category="Package") == []
    del facts["packages"]["openssl"]
    client.post("/events", json={"type": "ansible.facts_collected", "data": data | {"run_id": "r2"}})
    event = wait(lambda: events(client, category="Package"))[0]
    assert (event["field"], event["desired"], event["actual"]) == ("packages.openssl", "installed", "absent")
    assert event["ci"] == ci["id"] and event["policy"] == "policy-packages"


def test_a_failed_remediation_run_escalates_to_an_incident(make_client):
    client = make_client(FactsReporter(), disable_plugins=("ansible",))
    auto_remediate(client)
    _, node = first_node(client)
    nodes = client.sim.sim.nodes
    good = client.call(nodes.read_file, node, "/etc/ssh/sshd_config")
    client.call(nodes.write_file, node, "/etc/ssh/sshd_config", good + "PasswordAuthentication yes\n")
    event = wait(lambda: events(client, state="remediating"))[0]
    done = {"run_id": "run-9", "status": "failed", "correlation_id": event["correlation_id"]}
    client.post("/events", json={"type": "ansible.run.completed", "data": done})
    escalated = wait(lambda: events(client, state="escalated"))[0]
    assert escalated["remediation_run"] == "run-9" and escalated["incident"]
    incident = client.get(f"/itsm/incidents/{escalated['incident']}").json()
    assert incident["correlation_id"] == event["correlation_id"] and "not remediated" in incident["title"]


def test_a_successful_run_that_left_the_file_drifted_escalates_and_one_that_fixed_it_resolves(make_client):
    client = make_client(FactsReporter(), disable_plugins=("ansible",))
    auto_remediate(client)
    _, node = first_node(client)
    nodes = client.sim.sim.nodes
    good = client.call(nodes.read_file, node, "/etc/ssh/sshd_config")
    client.call(nodes.write_file, node, "/etc/ssh/sshd_config", good + "X11Forwarding yes\n")
    event = wait(lambda: events(client, state="remediating"))[0]
    done = {"run_id": "run-1", "status": "successful", "correlation_id": event["correlation_id"]}
    client.post("/events", json={"type": "ansible.run.completed", "data": done})
    assert wait(lambda: events(client, state="escalated"))[0]["id"] == event["id"]


def test_reconcile_sweeps_what_no_event_told(make_client):
    client = make_client(disable_plugins=("ansible",))
    vm, node = first_node(client)
    client.post("/drift/truth/changes", json={"kind": "power", "node": node, "state": "off"})
    wait(lambda: events(client, field="power_state"))
    # Back on without any event: only a sweep can tell.
    world_vm = client.sim.sim.world.get(Vm, vm["id"])
    world_vm.power_state = PowerState.ON
    swept = client.post("/drift/reconcile")
    assert swept.status_code == 200 and swept.json()["observed"] >= 1
    assert swept.json()["open_after"] == swept.json()["open_before"] - 1
    assert events(client, field="power_state", state="resolved")


def test_a_completed_change_makes_the_drifted_value_the_known_good_one(make_client):
    client = make_client(disable_plugins=("ansible",))
    _, node = first_node(client)
    nodes = client.sim.sim.nodes
    wanted = "net.ipv4.ip_forward = 1\n"
    client.call(nodes.write_file, node, "/etc/sysctl.conf", wanted)
    event = wait(lambda: events(client, field="/etc/sysctl.conf"))[0]
    change = {"number": "CHG0000042", "affected_cis": [event["ci"]], "correlation_id": None}
    assert client.post("/events", json={"type": "change.completed", "data": {"change": change}}).status_code == 202
    resolved = wait(lambda: events(client, field="/etc/sysctl.conf", state="resolved"))[0]
    assert resolved["notes"] == ["accepted by change CHG0000042"]
    # The changed text is known-good now: writing it again is no drift, the old text is.
    client.call(nodes.write_file, node, "/etc/sysctl.conf", wanted + "# tidy\n")
    reopened = wait(lambda: events(client, field="/etc/sysctl.conf", state="open"))[0]
    assert reopened["desired"] == wanted


async def test_drift_events_policies_desired_state_and_truth_survive_a_restart(make_dcsim):
    from dcsim.drift.answer_key import change_out_of_band
    from dcsim.drift.service import DriftService

    async with make_dcsim(disable_plugins=("ansible",)) as dc:
        drift = dc.services.get(DriftService)
        vm = next(vm for vm in dc.sim.world.all(Vm) if vm.node is not None)
        await change_out_of_band(drift, {"kind": "power", "node": vm.node.name, "state": "off"})
        for _ in range(100):
            if drift.events:
                break
            await asyncio.sleep(0.05)
        before = {e.id: e.state for e in drift.events.values()}
        drift.policies["policy-health"].severity = "low"
        await drift.save_policy(drift.policies["policy-health"])
    assert len(before) == 1
    async with make_dcsim(disable_plugins=("ansible",)) as again:
        drift = again.services.get(DriftService)
        assert {e.id: e.state for e in drift.events.values()} == before
        assert drift.policies["policy-health"].severity == "low" and len(drift.policies) == 8
        assert await drift.desired(vm.id, "power_state") == "on"
        assert [item.field for item in drift.truth] == ["power_state"]


def test_a_nic_moved_behind_the_cmdbs_back_is_network_drift_and_moving_it_back_resolves_it(make_client):
    client = make_client(disable_plugins=("ansible",))
    vm, node = first_node(client)
    home = vm["nics"][0]["network_id"]
    other = next(n for n in client.get("/sim/networks").json()["items"] if n["id"] != home)
    made = client.post("/drift/truth/changes", json={"kind": "network", "node": node, "network": other["name"]})
    assert made.status_code == 201, made.text
    event = wait(lambda: events(client, field="networks"))[0]
    assert (event["category"], event["policy"], event["ci_name"]) == (
        "Network",
        "policy-network-membership",
        vm["name"],
    )
    assert home in event["desired"] and other["id"] in event["actual"]
    again = client.post("/drift/truth/changes", json={"kind": "network", "node": node, "network": other["name"]})
    assert again.status_code == 400
    back = client.post("/drift/truth/changes", json={"kind": "network", "node": node, "network": home})
    assert back.status_code == 201
    wait(lambda: events(client, field="networks", state="resolved"))


async def test_an_instance_started_again_collects_its_drift_sources_anew(make_dcsim):
    from dcsim.drift.service import DriftService

    dc = make_dcsim(disable_plugins=("ansible",))
    async with dc:
        names = dc.services.get(DriftService).sources.names()
    async with dc:
        assert dc.services.get(DriftService).sources.names() == names
    assert "files" in names
