"""Every drift hook is called by the drift module: sources from a plugin, the comparison,
the choice of remediation."""

from __future__ import annotations

import time
from typing import Any

from test_drift_files import auto_remediate, bus, events, first_node, wait

from dcsim import hookimpl
from dcsim.drift.model import Observation
from dcsim.drift.service import DriftService


class Thermometer:
    """A third-party drift source: ``lab.temperature`` readings against a set point."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl
    def dcsim_register_event_types(self, registry: Any) -> None:
        registry.add_catalogue({"lab.temperature": ("a reading", {"vm": "vm id", "celsius": "the reading"})})

    @hookimpl
    def dcsim_drift_register_sources(self, registry: Any) -> None:
        async def observe(drift: Any, event: Any) -> list[Observation]:
            self.seen.append(event.id)
            vm = drift.world_object(event.data["vm"])
            return [Observation(object_id=vm.id, kind="vm", field="temperature", desired="cool",
                                actual="hot" if event.data["celsius"] > 30 else "cool", name=vm.name)]  # fmt: skip

        registry.add("thermometer", ("lab.temperature",), observe, fields=("temperature",))


def test_dcsim_drift_register_sources(make_client):
    plugin = Thermometer()
    client = make_client(plugin, disable_plugins=("ansible",))
    assert "thermometer" in client.sim.services.get(DriftService).sources.names()
    policy = {"id": "policy-temperature", "name": "room temperature", "monitored_fields": ["temperature"],
              "category": "State", "severity": "low"}  # fmt: skip
    assert client.post("/drift/policies", json=policy).status_code == 201
    vm, _ = first_node(client)
    client.post("/events", json={"type": "lab.temperature", "data": {"vm": vm["id"], "celsius": 41}})
    event = wait(lambda: events(client, field="temperature"))[0]
    assert (event["ci_name"], event["actual"], event["policy"], event["severity"]) == (
        vm["name"], "hot", "policy-temperature", "low")  # fmt: skip
    client.post("/events", json={"type": "lab.temperature", "data": {"vm": vm["id"], "celsius": 20}})
    wait(lambda: events(client, field="temperature", state="resolved"))
    assert len(plugin.seen) == 2


def test_dcsim_drift_values_equal_is_asked_by_drift(make_client):
    calls: list[str] = []

    class IgnoreComments:
        @hookimpl
        def dcsim_drift_values_equal(self, field: str, desired: Any, actual: Any) -> bool | None:
            calls.append(field)
            if not field.startswith("/etc/"):
                return None

            def strip(text: Any) -> list[str]:
                return [line for line in str(text or "").splitlines() if not line.startswith("#")]

            return strip(desired) == strip(actual)

    client = make_client(IgnoreComments(), disable_plugins=("ansible",))
    _, node = first_node(client)
    nodes = client.sim.sim.nodes
    good = client.call(nodes.read_file, node, "/etc/sysctl.conf")
    client.call(nodes.write_file, node, "/etc/sysctl.conf", good + "# a comment\n")
    wait(lambda: "/etc/sysctl.conf" in calls)
    time.sleep(0.3)
    assert events(client, field="/etc/sysctl.conf") == []
    client.call(nodes.write_file, node, "/etc/sysctl.conf", good + "net.ipv4.ip_forward = 1\n")
    wait(lambda: events(client, field="/etc/sysctl.conf"))


def test_dcsim_drift_choose_remediation(make_client):
    asked: list[tuple[str, str]] = []

    class Chooser:
        @hookimpl
        def dcsim_drift_choose_remediation(self, drift: dict[str, Any], policy: dict[str, Any]) -> str | None:
            asked.append((drift["field"], policy["id"]))
            return "harden-sshd" if drift["field"].endswith("sshd_config") else None

    client = make_client(Chooser(), disable_plugins=("ansible",))
    auto_remediate(client)
    _, node = first_node(client)
    nodes = client.sim.sim.nodes
    good = client.call(nodes.read_file, node, "/etc/ssh/sshd_config")
    client.call(nodes.write_file, node, "/etc/ssh/sshd_config", good + "PermitEmptyPasswords yes\n")
    detected = wait(lambda: bus(client, "drift.detected"))[0]["data"]
    assert detected["policy"]["remediation"] == "harden-sshd" and detected["policy"]["auto_remediate"] is True
    assert asked == [("/etc/ssh/sshd_config", "policy-sshd")]

    # Core's answer (last): the policy's own remediation.
    policy = client.get("/drift/policies/policy-system-files").json() | {"auto_remediate": True,
                                                                         "remediation": "fix-hosts"}  # fmt: skip
    assert client.put("/drift/policies/policy-system-files", json=policy).status_code == 200
    client.call(nodes.write_file, node, "/etc/hosts", "0.0.0.0 everything\n")
    hosts = wait(lambda: [e for e in bus(client, "drift.detected") if e["data"]["field"] == "/etc/hosts"])
    assert hosts[0]["data"]["policy"]["remediation"] == "fix-hosts"
