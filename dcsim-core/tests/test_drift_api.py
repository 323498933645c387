"""The ``/drift`` API: typed and strict (SPEC-010), events' actions, policy CRUD, reports, metrics."""

from __future__ import annotations

from test_drift_files import events, first_node, wait


def test_seed_policies_cover_the_watched_files_power_packages_and_firmware(dcsim_client):
    policies = dcsim_client.get("/drift/policies").json()
    assert policies["total"] == len(policies["items"]) >= 8
    fields = {f for p in policies["items"] for f in p["monitored_fields"]}
    watched = {"/etc/ssh/sshd_config", "/etc/hosts", "/etc/resolv.conf", "/etc/sysctl.conf", "/etc/sudoers",
               "/etc/passwd", "/etc/shadow"}  # fmt: skip
    assert watched | {"power_state", "packages.*", "firmware"} <= fields
    categories = {p["category"] for p in policies["items"]}
    assert categories == {"Configuration", "Package", "Network", "State", "Security", "Firmware"}


def test_policy_crud_is_strict(dcsim_client):
    client = dcsim_client
    body = {"id": "policy-motd", "name": "motd", "monitored_fields": ["/etc/motd"], "severity": "low"}
    created = client.post("/drift/policies", json=body)
    assert created.status_code == 201 and created.json()["category"] == "Configuration"
    assert client.post("/drift/policies", json=body).status_code == 409
    assert client.post("/drift/policies", json=body | {"id": "p2", "colour": "red"}).status_code == 422
    assert client.post("/drift/policies", json=body | {"id": "p3", "severity": "apocalyptic"}).status_code == 422
    assert client.post("/drift/policies", json=body | {"id": "p4", "monitored_fields": []}).status_code == 422
    naive = {"start": "2026-01-01T00:00:00", "end": "2026-01-02T00:00:00"}
    assert client.post("/drift/policies", json=body | {"id": "p5", "suppression_windows": [naive]}).status_code == 422
    assert client.put("/drift/policies/policy-motd", json=body | {"id": "other"}).status_code == 400
    replaced = client.put("/drift/policies/policy-motd", json=body | {"severity": "high"})
    assert replaced.status_code == 200 and replaced.json()["severity"] == "high"
    assert client.get("/drift/policies/policy-motd").json()["severity"] == "high"
    assert client.put("/drift/policies/nope", json=body | {"id": "nope"}).status_code == 404
    assert client.delete("/drift/policies/policy-motd").status_code == 204
    assert client.get("/drift/policies/policy-motd").status_code == 404
    assert client.delete("/drift/policies/policy-motd").status_code == 404


def test_events_filters_actions_reports_and_metrics(make_client):
    client = make_client(disable_plugins=("ansible",))
    _, node = first_node(client)
    nodes = client.sim.sim.nodes
    client.call(nodes.write_file, node, "/etc/passwd", "root:x:0:0::/root:/bin/sh\nmallory:x:0:0::/:/bin/sh\n")
    client.post("/drift/truth/changes", json={"kind": "power", "node": node, "state": "off"})
    wait(lambda: len(events(client)) == 2)
    assert [e["field"] for e in events(client, category="Security")] == ["/etc/passwd"]
    assert [e["field"] for e in events(client, severity="high")] == ["power_state"]
    assert client.get("/drift/events?state=bogus").status_code == 400
    assert client.get("/drift/events?limit=0").status_code == 400
    one = events(client, field="/etc/passwd")[0]
    assert client.get(f"/drift/events/{one['id']}").json() == one
    assert client.get("/drift/events/nope").status_code == 404

    acked = client.post(f"/drift/events/{one['id']}/acknowledge", json={"note": "looking"})
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged" and acked.json()["notes"] == ["looking"]
    assert client.post(f"/drift/events/{one['id']}/acknowledge", json={"nope": 1}).status_code == 422
    power = events(client, field="power_state")[0]
    suppressed = client.post(f"/drift/events/{power['id']}/suppress")
    assert suppressed.status_code == 200 and suppressed.json()["state"] == "suppressed"

    report = client.get("/drift/report").json()
    assert report["open"] == 2 and report["by_category"] == {"Security": 1, "State": 1}
    assert report["by_severity"] == {"critical": 1, "high": 1} and report["by_ci_type"] == {"vm": 2}
    timeline = client.get("/drift/report/timeline").json()
    assert sum(point["detected"] for point in timeline) == 2

    metrics = client.get("/metrics").text
    assert 'dcsim_drift_open_count{category="Security",severity="critical"} 1.0' in metrics
    assert 'dcsim_drift_events_total{category="State"} 1.0' in metrics

    client.post(f"/sim/vms/{power['ci_name']}/power", json={"action": "on"})
    wait(lambda: events(client, state="resolved"))
    assert client.post(f"/drift/events/{power['id']}/acknowledge").status_code == 409
    assert client.post(f"/drift/events/{power['id']}/remediate").status_code == 409


def test_remediate_asks_the_runner_through_drift_detected(make_client):
    client = make_client(disable_plugins=("ansible",))
    _, node = first_node(client)
    client.call(client.sim.sim.nodes.write_file, node, "/etc/sudoers", "ALL ALL=(ALL) NOPASSWD: ALL\n")
    event = wait(lambda: events(client, field="/etc/sudoers"))[0]
    assert event["state"] == "open"
    asked = client.post(f"/drift/events/{event['id']}/remediate")
    assert asked.status_code == 200 and asked.json()["state"] == "remediating"
    published = wait(
        lambda: [e for e in client.get("/events?limit=1000").json()["items"]
                 if e["type"] == "drift.detected" and e["data"]["policy"]["auto_remediate"]]
    )  # fmt: skip
    assert (
        published[0]["data"]["id"] == event["id"] and published[0]["data"]["correlation_id"] == event["correlation_id"]
    )


def test_out_of_band_changes_are_checked(dcsim_client):
    client = dcsim_client
    assert (
        client.post("/drift/truth/changes", json={"kind": "power", "node": "nope", "state": "off"}).status_code == 404
    )
    assert client.post("/drift/truth/changes", json={"kind": "meteor", "node": "x"}).status_code == 422
    assert client.post("/drift/truth/changes", json={"kind": "file", "node": "x"}).status_code in (400, 404)
    assert client.get("/drift/truth").json()["total"] == 0


def test_an_out_of_band_file_change_needs_a_writable_path(make_client):
    client = make_client(disable_plugins=("ansible",))
    _, node = first_node(client)
    for path in ("etc/hosts", "/etc/ho sts", "/etc/"):
        body = {"kind": "file", "node": node, "path": path, "content": "x"}
        assert client.post("/drift/truth/changes", json=body).status_code == 422, path
    refused = client.post("/drift/truth/changes", json={"kind": "file", "node": node, "path": "/etc", "content": "x"})
    assert refused.status_code == 400 and "cannot write /etc" in refused.json()["detail"]
    outside = {"kind": "file", "node": node, "path": "/etc/../root/x", "content": "x"}
    assert client.post("/drift/truth/changes", json=outside).status_code == 400
    assert client.get("/drift/truth").json()["total"] == 0
