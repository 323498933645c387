"""Acceptance 2 of issue #17: the alert loop with the real tools and no hand-made payload.

A VM's load profile goes to ``stressed`` through dc-sim's API; Prometheus scrapes the
higher CPU, the shipped ``HighCPUUsage`` rule fires, Alertmanager posts it to dc-sim's
webhook, and an incident opens linked to the VM's CI. The profile goes back to
``normal``; the alert resolves and so does the incident.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from stack import Prometheus, wait_until

from dcsim.testing import ServerProcess

#: Seconds each step may take (the test copy of the rules fires within ~30 s of the change).
STEP_TIMEOUT = 120


class Api:
    """dc-sim's own API as the admin of the test server."""

    def __init__(self, server: ServerProcess) -> None:
        self.client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=15)

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def set_profile(self, vm: str, profile: str) -> None:
        response = self.client.patch(f"/sim/vms/{vm}", json={"load_profile": profile})
        response.raise_for_status()
        assert response.json()["load_profile"] == profile


@pytest.fixture
def api(dcsim_stack: ServerProcess) -> Api:
    return Api(dcsim_stack)


def vm_and_ci(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A powered-on VM on the normal profile and its CMDB CI."""
    vms = api.get("/sim/vms", limit=100)["items"]
    vm = next(v for v in vms if v["power_state"] == "on" and v["load_profile"] == "normal")
    cis = api.get("/cmdb/cis", type="vm", q=vm["name"])["items"]
    matching = [ci for ci in cis if ci["name"] == vm["name"]]
    assert len(matching) == 1, f"one CI for VM {vm['name']}: {cis}"
    return vm, matching[0]


def firing(prometheus: Prometheus, vm: str) -> dict[str, Any] | None:
    return next(
        (
            a
            for a in prometheus.alerts()
            if a["labels"].get("alertname") == "HighCPUUsage" and a["labels"].get("vm") == vm and a["state"] == "firing"
        ),
        None,
    )


def alert_incident(api: Api, ci_id: str) -> dict[str, Any] | None:
    incidents = api.get("/itsm/incidents", ci=ci_id)["items"]
    return next((i for i in incidents if (i.get("correlation_id") or "").startswith("alertmanager:")), None)


def test_stressed_vm_opens_an_incident_on_its_ci_and_normal_load_resolves_it(
    api: Api, prometheus: Prometheus, alertmanager: Any
) -> None:
    prometheus.wait_for_scrapes(2)
    vm, ci = vm_and_ci(api)
    assert alert_incident(api, ci["id"]) is None
    assert firing(prometheus, vm["name"]) is None

    api.set_profile(vm["id"], "stressed")
    try:
        alert = wait_until(lambda: firing(prometheus, vm["name"]), STEP_TIMEOUT, "HighCPUUsage to fire")
        assert float(alert["value"]) > 0.75
        incident = wait_until(lambda: alert_incident(api, ci["id"]), STEP_TIMEOUT, "the incident to open")
    finally:
        api.set_profile(vm["id"], "normal")

    assert incident["affected_cis"] == [ci["id"]]
    assert incident["priority"] == "P2"
    assert incident["state"] == "new"
    assert incident["title"] == f"High CPU on VM {vm['name']}"
    assert incident["created_by"] == "rule:alertmanager-incidents"
    assert incident["source_data"]["alert"]["labels"]["alertname"] == "HighCPUUsage"

    resolved = wait_until(
        lambda: (i := api.get(f"/itsm/incidents/{incident['number']}"))["state"] == "resolved" and i,
        STEP_TIMEOUT,
        "the incident to resolve",
    )
    assert "HighCPUUsage resolved" in resolved["resolution_notes"]
    assert firing(prometheus, vm["name"]) is None
