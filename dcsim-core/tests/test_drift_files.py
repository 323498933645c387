"""Drift of watched files on virtual nodes (watchdog): detection with the diff, the
change request ITSM opens, the one live event per CI and field, resolution, suppression."""

from __future__ import annotations

import time
from typing import Any

SSHD = "/etc/ssh/sshd_config"


def wait(probe: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def auto_remediate(client: Any, policy_id: str = "policy-sshd", **more: Any) -> None:
    """Switch auto-remediation on for a policy (the seed's policies leave it off)."""
    policy = client.get(f"/drift/policies/{policy_id}").json() | {"auto_remediate": True, **more}
    assert client.put(f"/drift/policies/{policy_id}", json=policy).status_code == 200


def first_node(client: Any) -> tuple[dict[str, Any], str]:
    vm = next(vm for vm in client.get("/sim/vms").json()["items"] if vm.get("node"))
    return vm, vm["node"]["name"]


def events(client: Any, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    answer = client.get(f"/drift/events?{query}")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def bus(client: Any, event_type: str) -> list[dict[str, Any]]:
    return [e for e in client.get("/events?limit=1000").json()["items"] if e["type"] == event_type]


def test_sshd_config_changed_on_a_virtual_node_is_drift_with_its_diff_within_two_seconds(make_client):
    client = make_client(disable_plugins=("ansible",))
    auto_remediate(client)
    vm, node = first_node(client)
    nodes = client.sim.sim.nodes
    good = client.call(nodes.read_file, node, SSHD)
    started = time.monotonic()
    client.call(nodes.write_file, node, SSHD, good + "PermitRootLogin yes\n")
    found = wait(lambda: events(client, field=SSHD))
    assert time.monotonic() - started < 2.0
    event = found[0]
    assert event["ci_name"] == vm["name"] and event["ci_type"] == "vm" and event["node"] == node
    assert event["desired"] == good and event["actual"] == good + "PermitRootLogin yes\n"
    assert "+PermitRootLogin yes" in event["diff"] and event["diff"].startswith("--- a/etc/ssh/sshd_config")
    assert (event["category"], event["severity"], event["policy"]) == ("Security", "high", "policy-sshd")
    assert event["state"] == "remediating" and event["correlation_id"] == f"drift:{event['ci']}:{SSHD}"
    ci = client.get(f"/cmdb/cis/{event['ci']}").json()
    assert ci["name"] == vm["name"]

    detected = wait(lambda: bus(client, "drift.detected"))[0]["data"]
    assert {k: detected[k] for k in ("ci", "field", "desired", "actual", "severity")} == {
        "ci": event["ci"], "field": SSHD, "desired": good, "actual": event["actual"], "severity": "high"
    }  # fmt: skip
    assert detected["policy"]["name"] == "sshd configuration" and detected["policy"]["auto_change_request"] is True
    assert detected["policy"]["auto_remediate"] is True

    change = wait(lambda: client.get("/itsm/changes").json()["items"])[0]
    assert change["correlation_id"] == event["correlation_id"] and event["ci"] in str(change["affected_cis"])
    assert change["state"] == "draft"


def test_a_repeat_updates_the_one_live_event_and_putting_it_back_resolves_it(make_client):
    client = make_client(disable_plugins=("ansible",))
    _, node = first_node(client)
    nodes = client.sim.sim.nodes
    good = client.call(nodes.read_file, node, "/etc/hosts")
    client.call(nodes.write_file, node, "/etc/hosts", good + "10.0.0.9 evil\n")
    wait(lambda: events(client, field="/etc/hosts"))
    client.call(nodes.write_file, node, "/etc/hosts", good + "10.0.0.9 evil\n10.0.0.10 worse\n")
    updated = wait(lambda: [e for e in events(client, field="/etc/hosts") if e["occurrences"] == 2])
    assert len(events(client, field="/etc/hosts")) == 1
    assert updated[0]["actual"].endswith("worse\n") and updated[0]["desired"] == good
    assert updated[0]["state"] == "open" and updated[0]["category"] == "Configuration"

    client.call(nodes.write_file, node, "/etc/hosts", good)
    resolved = wait(lambda: events(client, field="/etc/hosts", state="resolved"))
    assert resolved[0]["resolved_at"] and resolved[0]["id"] == updated[0]["id"]
    gone = wait(lambda: bus(client, "drift.resolved"))[0]["data"]
    assert gone["id"] == resolved[0]["id"] and gone["field"] == "/etc/hosts"

    client.call(nodes.write_file, node, "/etc/hosts", good + "again\n")
    wait(lambda: events(client, field="/etc/hosts", state="open"))
    assert len(events(client, field="/etc/hosts")) == 2


def test_an_approved_exception_records_drift_as_suppressed_and_publishes_nothing(make_client):
    client = make_client(disable_plugins=("ansible",))
    vm, node = first_node(client)
    policy = client.get("/drift/policies/policy-system-files").json()
    policy["exceptions"] = [{"ci": vm["name"], "field": "/etc/resolv.conf", "reason": "lab DNS"}]
    assert client.put("/drift/policies/policy-system-files", json=policy).status_code == 200
    nodes = client.sim.sim.nodes
    client.call(nodes.write_file, node, "/etc/resolv.conf", "nameserver 10.9.9.9\n")
    suppressed = wait(lambda: events(client, field="/etc/resolv.conf"))[0]
    assert suppressed["state"] == "suppressed"
    time.sleep(0.3)
    assert bus(client, "drift.detected") == []


def test_an_unwatched_file_is_not_drift(make_client):
    client = make_client(disable_plugins=("ansible",))
    _, node = first_node(client)
    nodes = client.sim.sim.nodes
    client.call(nodes.write_file, node, "/etc/motd", "hello\n")
    client.call(nodes.write_file, node, "/etc/sysctl.conf", "vm.swappiness = 1\n")
    wait(lambda: events(client, field="/etc/sysctl.conf"))
    assert events(client, field="/etc/motd") == []


def test_tag_selectors_pick_the_policy_windows_suppress_and_notify_travels(make_client):
    from datetime import UTC, datetime, timedelta

    client = make_client(disable_plugins=("ansible",))
    vm, node = first_node(client)
    ci_tags = next(c for c in client.get("/cmdb/cis?limit=500").json()["items"] if c["name"] == vm["name"])["tags"]
    elsewhere = {"id": "policy-aa-elsewhere", "name": "another env", "monitored_fields": ["/etc/sysctl.conf"],
                 "tags": {"env": "not-" + ci_tags.get("env", "x")}, "severity": "critical"}  # fmt: skip
    here = {"id": "policy-ab-here", "name": "this env", "monitored_fields": ["/etc/sysctl.conf"],
            "tags": {"env": ci_tags["env"]}, "severity": "low", "notify": ["team-linux"]}  # fmt: skip
    now = datetime.now(UTC)
    window = {"start": (now - timedelta(minutes=5)).isoformat(), "end": (now + timedelta(minutes=5)).isoformat()}
    quiet = {"id": "policy-ac-quiet", "name": "maintenance", "monitored_fields": ["/etc/hosts"],
             "suppression_windows": [window]}  # fmt: skip
    for body in (elsewhere, here, quiet):
        assert client.post("/drift/policies", json=body).status_code == 201
    nodes = client.sim.sim.nodes
    client.call(nodes.write_file, node, "/etc/sysctl.conf", "kernel.panic = 1\n")
    client.call(nodes.write_file, node, "/etc/hosts", "127.0.0.1 localhost\n")
    sysctl = wait(lambda: events(client, field="/etc/sysctl.conf"))[0]
    assert (sysctl["policy"], sysctl["severity"]) == ("policy-ab-here", "low")
    assert wait(lambda: events(client, field="/etc/hosts"))[0]["state"] == "suppressed"
    detected = wait(lambda: bus(client, "drift.detected"))
    assert [d["data"]["field"] for d in detected] == ["/etc/sysctl.conf"]
    assert detected[0]["data"]["notify"] == ["team-linux"]
