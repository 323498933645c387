"""Compliance of the seed estate against the bundled advisories, computed again here from
the data file with Debian's own version comparison (``dpkg --compare-versions``), and the
roll-ups, scans, stale marks and metrics that follow from it."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from importlib import resources
from typing import Any

import pytest

from dcsim import hookimpl

SEVERITIES = ("low", "medium", "high", "critical")


def _older(installed: str, fixed: str) -> bool:
    """True when ``installed`` sorts before ``fixed`` by dpkg's rules (same as rpm's for these)."""
    return subprocess.run(["dpkg", "--compare-versions", installed, "lt", fixed], check=False).returncode == 0


def _expected(client: Any) -> dict[str, dict[str, Any]]:
    """Per CI: the advisories that apply, and compliance under the seed policies (level high)."""
    data = json.loads(resources.files("dcsim.patch").joinpath("advisories.json").read_text())
    nodes = client.sim.sim.nodes
    expected = {}
    for ci in client.get("/cmdb/cis?limit=500").json()["items"]:
        node, os_type = ci["attributes"].get("node"), ci["tags"].get("os")
        if not node or not os_type:
            continue
        installed = client.call(nodes.packages, node)
        applicable, asked = set(), set()
        for advisory in data["advisories"]:
            for fix in advisory["affected"]:
                if (
                    fix["os"] == os_type
                    and fix["package"] in installed
                    and _older(installed[fix["package"]], fix["fixed_version"])
                ):
                    applicable.add(advisory["id"])
                    if advisory["type"] == "security" and SEVERITIES.index(advisory["severity"]) >= SEVERITIES.index(
                        "high"
                    ):
                        asked.add(advisory["id"])
        expected[ci["id"]] = {
            "applicable": applicable,
            "compliant": not asked,
            "os": os_type,
            "env": ci["tags"].get("env"),
        }
    return expected


@pytest.fixture
def client(make_client):
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is needed to compare versions independently")
    return make_client(disable_plugins=("ansible",))


def test_seed_estate_compliance_matches_the_bundled_advisories(client):
    expected = _expected(client)
    assert len(expected) == 9
    report = client.get("/patch/compliance").json()
    got = {ci["ci_id"]: ci for ci in report["cis"]}
    assert set(got) == set(expected)
    for ci_id, want in expected.items():
        state = got[ci_id]
        assert {p["advisory"] for p in state["pending_patches"]} == want["applicable"], state["ci_name"]
        assert state["compliance_status"] == ("compliant" if want["compliant"] else "non_compliant")
        assert state["os_type"] == want["os"] and state["target_patch_level"] == "high"
        assert state["policy"] == f"policy-{want['os']}-baseline" and not state["stale"]
    # Realistic, not uniform: installed versions already at the fix, packages absent, one OS only.
    every = set().union(*(w["applicable"] for w in expected.values()))
    assert "CVE-2023-28486" not in every and "CVE-2024-3094" not in every and "CVE-2023-24329" not in every
    assert "CVE-2024-2961" in every and "CVE-2024-6387" in every
    compliant = sum(1 for w in expected.values() if w["compliant"])
    assert report["summary"]["compliant"] == compliant and report["summary"]["total"] == 9
    assert report["summary"]["compliance_pct"] == round(100.0 * compliant / 9, 1)
    by_os = report["by_os"]
    assert {k: v["total"] for k, v in by_os.items()} == {
        os: sum(1 for w in expected.values() if w["os"] == os) for os in {w["os"] for w in expected.values()}
    }
    cves = {a for w in expected.values() for a in w["applicable"] if a.startswith("CVE-")}
    assert report["summary"]["pending_cves"] == len(cves)
    assert set(report["by_policy"]) == {"policy-rhel9-baseline", "policy-ubuntu22-baseline"}
    assert set(report["by_env"]) == {w["env"] for w in expected.values()}


def test_a_node_patched_by_hand_is_compliant_after_a_scan(client):
    ci = next(c for c in client.get("/patch/compliance").json()["cis"] if c["os_type"] == "rhel9")
    assert ci["compliance_status"] == "non_compliant"
    nodes = client.sim.sim.nodes
    installed = client.call(nodes.packages, ci["node"])
    fixed = {p["package"]: p["fixed_version"] for p in ci["pending_patches"]}
    client.call(nodes.set_packages, ci["node"], installed | fixed)
    scanned = client.post("/patch/compliance/scan", json={"ci_ids": [ci["ci_id"]]}).json()
    assert scanned["scanned"] == 1
    state = scanned["cis"][0]
    assert state["compliance_status"] == "compliant" and state["pending_patches"] == []
    assert state["current_patch_level"] == "current"
    assert client.get(f"/patch/compliance/{ci['ci_name']}").json()["compliance_status"] == "compliant"
    metrics = client.get("/metrics").text
    assert 'dcsim_patch_compliance_pct{os="all"} 11.1' in metrics
    assert 'dcsim_patch_pending_cves{os="rhel9"}' in metrics


def test_a_pending_reboot_and_an_unreadable_inventory_are_reported(client):
    cis = client.get("/patch/compliance").json()["cis"]
    nodes = client.sim.sim.nodes
    first, second = cis[0], cis[1]
    client.call(nodes.write_file, first["node"], "/var/run/reboot-required", "kernel updated\n")
    client.call(nodes.remove, second["node"])
    states = {s["ci_id"]: s for s in client.post("/patch/compliance/scan").json()["cis"]}
    assert states[first["ci_id"]]["pending_reboot"] is True
    assert states[second["ci_id"]]["compliance_status"] == "unknown"
    assert "inventory unreadable" in states[second["ci_id"]]["reason"]
    assert client.get("/patch/compliance?status=unknown").json()["summary"]["total"] == 1


def test_advisories_are_listed_with_the_cis_they_apply_to(client):
    client.post("/patch/compliance/scan")
    listed = client.get("/patch/advisories").json()
    assert listed["total"] == 10 and listed["items"][0]["id"] == "CVE-2024-3094"  # CVSS 10 first
    openssh = client.get("/patch/advisories/CVE-2024-6387").json()
    assert openssh["severity"] == "high" and openssh["feed"] == "bundled" and len(openssh["affected_cis"]) == 9
    assert client.get("/patch/advisories/CVE-2024-3094").json()["affected_cis"] == []
    assert client.get("/patch/advisories?severity=critical").json()["total"] == 2
    answer = client.get("/patch/advisories/CVE-1999-0001")
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("application/problem+json")
    assert client.get("/patch/compliance/no-such-ci").status_code == 404


class RunnerEvents:
    """Declares ``ansible.run.completed`` as the runner does, without the runner installed."""

    @hookimpl
    def dcsim_register_event_types(self, registry: Any) -> None:
        registry.add_catalogue({"ansible.run.completed": ("a run ended", {"run_id": "", "status": "", "stats": "",
                                                                           "correlation_id": ""})})  # fmt: skip


def test_a_runner_run_that_was_not_patching_makes_its_nodes_scans_stale(make_client):
    client = make_client(RunnerEvents(), disable_plugins=("ansible",))
    cis = client.get("/patch/compliance").json()["cis"]
    touched, other = cis[0], cis[1]
    assert not touched["stale"]
    data = {"run_id": "r1", "status": "successful", "correlation_id": "drift:x:packages",
            "stats": {touched["node"]: {"ok": 2, "changed": 1, "failures": 0}}}  # fmt: skip
    assert client.post("/events", json={"type": "ansible.run.completed", "data": data}).status_code in (200, 201, 202)
    deadline = time.monotonic() + 10
    while not client.get(f"/patch/compliance/{touched['ci_id']}").json()["stale"]:
        assert time.monotonic() < deadline, "never stale"
        time.sleep(0.2)
    assert not client.get(f"/patch/compliance/{other['ci_id']}").json()["stale"]
    rescanned = client.post("/patch/compliance/scan", json={"ci_ids": [touched["ci_id"]]}).json()["cis"][0]
    assert not rescanned["stale"] and rescanned["last_scanned"]
