"""Every patch hook is called by the patch module: advisory feeds, version comparison and
run steps (each test named after its hook, as test_docs demands)."""

from __future__ import annotations

import time
from typing import Any

from dcsim import hookimpl
from dcsim.patch.model import Advisory, Affected
from dcsim.patch.service import PatchService


def wait(probe: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


class LabFeed:
    """A third-party advisory feed: one advisory as a dict, one as an Advisory, one replacing a bundled one."""

    def __init__(self) -> None:
        self.reads = 0

    @hookimpl
    def dcsim_patch_register_advisory_feeds(self, registry: Any) -> None:
        def feed() -> list[Any]:
            self.reads += 1
            return [
                {"id": "CVE-2099-0001", "title": "lab bash flaw", "cvss": 9.8, "severity": "critical",
                 "type": "security", "affected": [{"os": "ubuntu22", "package": "bash", "fixed_version": "5.1-6ubuntu1.2"}]},
                Advisory(id="CVE-2099-0002", severity="low", affected=[Affected(os="rhel9", package="bash", fixed_version="5.1.8-9.el9")]),
                {"id": "CVE-2024-6387", "cvss": 8.1, "severity": "high", "affected": []},
            ]  # fmt: skip

        registry.add("lab", feed)


def test_dcsim_patch_register_advisory_feeds(make_client):
    plugin = LabFeed()
    client = make_client(plugin, disable_plugins=("ansible",))
    assert client.sim.services.get(PatchService).feeds.names() == ["lab"]
    added = client.get("/patch/advisories/CVE-2099-0001").json()
    assert added["feed"] == "lab" and added["severity"] == "critical"
    states = client.post("/patch/compliance/scan").json()["cis"]
    assert plugin.reads >= 2  # at start and again at the scan
    for state in states:
        pending = {p["advisory"] for p in state["pending_patches"]}
        assert ("CVE-2099-0001" in pending) == (state["os_type"] == "ubuntu22")
        assert "CVE-2099-0002" not in pending  # bash at exactly the fixed version
        assert "CVE-2024-6387" not in pending  # the feed's copy affects nothing
    assert client.get("/patch/advisories/CVE-2024-6387").json()["feed"] == "lab"


def test_dcsim_patch_compare_versions_is_asked_by_compliance(make_client):
    asked: list[tuple[str, str, str]] = []

    class EverythingIsNew:
        @hookimpl
        def dcsim_patch_compare_versions(self, os_family: str, installed: str, candidate: str) -> int:
            asked.append((os_family, installed, candidate))
            return 1

    client = make_client(EverythingIsNew(), disable_plugins=("ansible",))
    report = client.get("/patch/compliance").json()
    assert report["summary"]["compliant"] == 9 and report["summary"]["pending_cves"] == 0
    assert {family for family, _, _ in asked} == {"rhel", "debian"}
    assert ("rhel", "8.7p1-38.el9", "8.7p1-38.el9_4.1") in asked


def test_dcsim_patch_run_step(make_client):
    seen: list[tuple[str, str]] = []

    class Audit:
        @hookimpl
        def dcsim_patch_run_step(self, run: dict[str, Any], step: str) -> None:
            seen.append((run["id"], step))

    client = make_client(Audit(), disable_plugins=("ansible",))
    run = client.post("/patch/runs", json={"policy": "policy-rhel9-baseline"}).json()
    wait(lambda: seen and seen[-1][1] in ("completed", "failed", "cancelled"))
    assert [step for _, step in seen] == ["plan", "validate", "snapshot", "execute", "verify", "report", "alert",
                                          "completed"]  # fmt: skip
    assert {run_id for run_id, _ in seen} == {run["id"]}


def test_a_failing_run_step_hook_does_not_stop_the_run(make_client):
    class Broken:
        @hookimpl
        def dcsim_patch_run_step(self, run: dict[str, Any], step: str) -> None:
            raise RuntimeError("audit sink down")

    client = make_client(Broken(), disable_plugins=("ansible",))
    run = client.post("/patch/runs", json={"policy": "policy-ubuntu22-baseline"}).json()
    done = wait(lambda: (r := client.get(f"/patch/runs/{run['id']}").json())["state"] == "completed" and r)
    assert [s["name"] for s in done["steps"]][-1] == "completed"


def test_a_feed_that_fails_costs_its_advisories_not_the_scan(make_client):
    class DownFeed:
        @hookimpl
        def dcsim_patch_register_advisory_feeds(self, registry: Any) -> None:
            def feed() -> list[Any]:
                raise ConnectionError("feed unreachable")

            registry.add("down", feed)

    client = make_client(DownFeed(), disable_plugins=("ansible",))
    scanned = client.post("/patch/compliance/scan")
    assert scanned.status_code == 200 and scanned.json()["scanned"] == 9
    assert client.get("/patch/advisories").json()["total"] == 10
