"""The stack of the conftest comes up: Prometheus scrapes dc-sim, knows Alertmanager and loads the rules."""

from __future__ import annotations

import httpx
from stack import Process, Prometheus


def test_prometheus_scrapes_dcsim_and_loads_every_shipped_rule(prometheus: Prometheus) -> None:
    prometheus.wait_for_scrapes(2)
    assert prometheus.query("count(dcsim_vm_cpu_usage)"), "dc-sim's VM series are scraped"
    groups = httpx.get(f"{prometheus.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    names = {rule["name"] for group in groups for rule in group["rules"]}
    assert {"HighCPUUsage", "HostDown", "ClusterCapacityHigh", "DriftDetected", "PatchNonCompliance"} <= names
    assert all(rule["health"] != "err" for group in groups for rule in group["rules"]), groups


def test_prometheus_sends_to_the_alertmanager(prometheus: Prometheus, alertmanager: Process) -> None:
    body = httpx.get(f"{prometheus.url}/api/v1/alertmanagers", timeout=10).json()["data"]
    assert [a["url"] for a in body["activeAlertmanagers"]] == [f"{alertmanager.url}/api/v2/alerts"]
