"""The compliance roll-ups without each CI's state (``GET /patch/compliance/summary``), and
how the first scan shares the event loop: asked for at once by several requests it runs
once, and it lets other work in while it assesses."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dcsim import hookimpl
from dcsim.patch import service as patch_service
from dcsim.patch.service import PatchService


def test_the_summary_is_the_reports_roll_ups_without_the_cis(make_client):
    client = make_client(disable_plugins=("ansible",))
    summary = client.get("/patch/compliance/summary").json()
    report = client.get("/patch/compliance").json()
    assert set(summary) == {"summary", "by_policy", "by_env", "by_os"}
    assert summary == {key: report[key] for key in summary}
    assert summary["summary"]["total"] == len(report["cis"]) == 9
    for os_type in summary["by_os"]:
        filtered = client.get(f"/patch/compliance/summary?os={os_type}").json()
        assert filtered["summary"] == summary["by_os"][os_type]
        assert filtered == {key: value for key, value in client.get(f"/patch/compliance?os={os_type}").json().items()
                            if key != "cis"}  # fmt: skip
    assert client.get("/patch/compliance/summary?status=no-such-status").json()["summary"]["total"] == 0
    document = client.get("/schema/openapi.json").json()
    answer = document["paths"]["/patch/compliance/summary"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ComplianceSummary")
    assert "cis" not in document["components"]["schemas"]["ComplianceSummary"]["properties"]


class CountedComparisons:
    """Counts the version comparisons scans ask for (each CI's packages against the advisories)."""

    def __init__(self) -> None:
        self.asked = 0

    @hookimpl
    def dcsim_patch_compare_versions(self, os_family: str, installed: str, candidate: str) -> int | None:
        self.asked += 1
        return None  # the built-in comparison answers


async def test_requests_that_ask_during_the_first_scan_wait_for_it_instead_of_scanning_again(make_dcsim):
    counter = CountedComparisons()
    async with make_dcsim(counter, disable_plugins=("ansible",)) as dcsim:
        patch = dcsim.services.get(PatchService)
        await asyncio.gather(*(patch.ensure_scanned() for _ in range(3)))
        once = counter.asked
        assert once > 0 and patch.scanned_once and len(patch.states) == 9
        await patch.ensure_scanned()
        assert counter.asked == once, "a second ask after the first scan scans nothing"
        await patch.scan()
        assert counter.asked == 2 * once, "three concurrent first asks cost exactly one scan"


async def test_a_scan_lets_other_work_in_while_it_assesses(make_dcsim, monkeypatch: pytest.MonkeyPatch):
    # A slice of no time: the scan lets the loop in after every CI (5 ms slices on a large estate).
    monkeypatch.setattr(patch_service, "SCAN_SLICE_SECONDS", 0.0)
    async with make_dcsim(disable_plugins=("ansible",)) as dcsim:
        patch = dcsim.services.get(PatchService)
        ticks: list[int] = []
        done = asyncio.Event()

        async def ticker() -> Any:
            while not done.is_set():
                ticks.append(len(patch.states))
                await asyncio.sleep(0)

        running = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        started = len(ticks)
        states = await patch.scan()
        done.set()
        await running
        assert len(states) == 9
        # The other task ran between the CIs, not only before and after the scan.
        assert len(ticks) - started >= len(states) - 1
