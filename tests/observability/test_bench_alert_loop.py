"""bench/alert_loop.py runs and prints its three figures (issue #17, acceptance 6)."""

from __future__ import annotations

import re
import subprocess
import sys

from stack import REPO


def test_the_bench_prints_the_time_from_load_change_to_incident() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "alert_loop.py"), "--rounds", "1"],
        capture_output=True, text=True, timeout=400, check=False, cwd=REPO / "bench",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = {
        label.strip(): (float(p50), float(worst))
        for label, p50, worst in re.findall(r"^(load .+?)\s+([\d.]+)\s+([\d.]+)$", result.stdout, flags=re.MULTILINE)
    }
    assert set(figures) == {
        "load change -> HighCPUUsage firing",
        "load change -> incident open on the VM's CI",
        "load back to normal -> incident resolved",
    }, result.stdout
    fired, opened = (
        figures["load change -> HighCPUUsage firing"][0],
        figures["load change -> incident open on the VM's CI"][0],
    )
    assert 0 < fired <= opened < 120
