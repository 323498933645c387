"""Patch policies and runs without the runner: CRUD with strict input, the change gate
(a CI without an approved change is skipped and reported), schedules as timers, cancel."""

from __future__ import annotations

import time
from typing import Any

RHEL = "policy-rhel9-baseline"


def wait(probe: Any, timeout: float = 20.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(interval)


def finished(client: Any, run_id: str, timeout: float = 20.0) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        run: dict[str, Any] = client.get(f"/patch/runs/{run_id}").json()
        return run if run["state"] in ("completed", "failed", "cancelled") else None

    found: dict[str, Any] = wait(probe, timeout)
    return found


def bus(client: Any, event_type: str) -> list[dict[str, Any]]:
    return [e for e in client.get("/events?limit=1000").json()["items"] if e["type"] == event_type]


def test_seed_policies_and_crud_with_strict_input(make_client):
    client = make_client(disable_plugins=("ansible",))
    listed = client.get("/patch/policies").json()
    assert [p["id"] for p in listed["items"]] == [RHEL, "policy-ubuntu22-baseline"]
    seed = client.get(f"/patch/policies/{RHEL}").json()
    assert seed["os_type"] == "rhel9" and seed["schedule"] == "0 2 * * 6" and seed["next_run_at"]
    body = {"id": "policy-prod-rhel", "name": "prod RHEL, critical only", "os_type": "rhel9",
            "target_ci_tags": {"env": "prod"}, "patch_level": "critical", "max_parallel": 1}  # fmt: skip
    created = client.post("/patch/policies", json=body)
    assert created.status_code == 201 and created.json()["next_run_at"] is None
    assert client.post("/patch/policies", json=body).status_code == 409
    assert client.post("/patch/policies", json=body | {"id": "x", "colour": "red"}).status_code == 422
    assert client.post("/patch/policies", json=body | {"id": "x", "max_parallel": "2"}).status_code == 422
    for never in ("every tuesday", "0 0 31 2 *"):
        refused = client.post("/patch/policies", json=body | {"id": "x", "schedule": never})
        assert refused.status_code in (400, 422), refused.text
    replaced = client.put("/patch/policies/policy-prod-rhel", json=body | {"schedule": "30 1 * * *"})
    assert replaced.status_code == 200 and replaced.json()["next_run_at"].endswith(("01:30:00Z", "01:30:00+00:00"))
    assert client.put("/patch/policies/other", json=body).status_code in (400, 422)
    assert client.delete("/patch/policies/policy-prod-rhel").status_code == 204
    assert client.get("/patch/policies/policy-prod-rhel").status_code == 404
    assert client.post("/patch/runs", json={"policy": "policy-prod-rhel"}).status_code == 404


def test_a_run_without_an_approved_change_skips_every_ci_and_reports_them(make_client):
    client = make_client(disable_plugins=("ansible",))
    rhel = [c for c in client.get("/patch/compliance").json()["cis"] if c["os_type"] == "rhel9"]
    # A change that is only a draft, and an approved one whose window has passed, authorise nothing.
    client.post("/itsm/changes", json={"title": "patch draft", "affected_cis": [rhel[0]["ci_id"]],
                                       "window": {"start": "2026-01-01T00:00:00Z", "end": "2099-01-01T00:00:00Z"}})  # fmt: skip
    client.post("/itsm/changes", json={"title": "old", "type": "standard", "affected_cis": [rhel[1]["ci_id"]],
                                       "window": {"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"}})  # fmt: skip
    started = client.post("/patch/runs", json={"policy": RHEL})
    assert started.status_code == 202
    run = finished(client, started.json()["id"])
    assert run["state"] == "completed" and run["correlation_id"] == f"patch:{run['id']}"
    assert {c["ci_id"] for c in run["cis"]} == {c["ci_id"] for c in rhel}
    assert all(c["state"] == "skipped" and "no approved change" in c["reason"] for c in run["cis"])
    assert run["summary"] == {"cis": len(rhel), "skipped": len(rhel)}
    assert "CVE-2024-5535" in run["advisories"] and "RHBA-2024:3310" not in run["advisories"]
    assert bus(client, "patch.scheduled") == []
    done = wait(lambda: bus(client, "patch.run.completed"))[0]["data"]
    assert done["run_id"] == run["id"] and sorted(done["skipped"]) == sorted(c["ci_id"] for c in rhel)
    assert bus(client, "patch.run.started")[0]["data"]["run_id"] == run["id"]
    assert [r["id"] for r in client.get(f"/patch/runs?policy={RHEL}").json()["items"]] == [run["id"]]
    assert client.post(f"/patch/runs/{run['id']}/cancel").status_code == 409
    assert client.get("/patch/runs/nope").status_code == 404


def test_a_schedule_fires_a_run_from_its_timer(make_client):
    client = make_client(disable_plugins=("ansible",))
    body = {"id": "policy-every-minute", "name": "every minute", "os_type": "ubuntu22", "schedule": "* * * * *"}
    assert client.post("/patch/policies", json=body).status_code == 201
    runs = wait(lambda: client.get("/patch/runs?policy=policy-every-minute").json()["items"], timeout=75, interval=1.0)
    assert runs[0]["requested_by"] == "schedule"
    finished(client, runs[0]["id"])
    # The timer is armed again for the next minute.
    assert client.get("/patch/policies/policy-every-minute").json()["next_run_at"]


async def test_policies_states_and_runs_survive_a_restart_and_an_interrupted_run_is_failed(make_dcsim):
    from dcsim.patch.model import Policy, Run, RunState
    from dcsim.patch.service import PatchService

    async with make_dcsim(disable_plugins=("ansible",)) as first:
        patch = first.services.get(PatchService)
        await patch.save_policy(Policy(id="policy-kept", name="kept", os_type="rhel9", patch_level="all"))
        scanned = await patch.scan()
        interrupted = Run(policy="policy-kept", state=RunState.EXECUTING)
        await patch.save_run(interrupted)
    async with make_dcsim(disable_plugins=("ansible",)) as second:
        patch = second.services.get(PatchService)
        assert patch.policies["policy-kept"].patch_level == "all" and patch.due_at("policy-rhel9-baseline")
        assert {s.ci_id: s.compliance_status for s in scanned} == {
            ci_id: s.compliance_status for ci_id, s in patch.states.items()}  # fmt: skip
        run = patch.runs[interrupted.id]
        assert run.state is RunState.FAILED and run.summary["reason"] == "interrupted by a restart"
        assert run.finished_at is not None
