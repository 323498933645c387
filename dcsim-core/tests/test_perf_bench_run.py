"""``bench/run`` (issue #18): one command that measures dc-sim and its anchors back to back
and prints one table. A short run of every part on a small estate: the figures are
meaningless at this size, the table's shape and its measured values are what is checked.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
HEADER = ["metric", "dc-sim", "anchor", "ratio", "goal", "pass/fail"]


def test_bench_run_prints_one_table_of_every_part_with_the_load_average() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DCSIM_")}
    result = subprocess.run(
        [str(BENCH / "run"), "http", "bus", "metrics", "--vms", "20", "--seconds", "1", "--connections", "4",
         "--events", "300", "--xadd-requests", "2000", "--scrapes", "2", "--bucket-scrapes", "1"],
        env=env | {"PYTHON": sys.executable}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert re.match(r"dc-sim bench/run: \d+ CPUs, load average [\d.]+ [\d.]+ [\d.]+ \(before\)", lines[0])
    assert lines[1].split() == HEADER
    rows = {line.split("  ")[0]: line for line in lines[2:]}
    # The hello on every stack dcsim serve can run on here; dc-sim on its default one, uvicorn.
    stacks = ["uvicorn", *(["granian"] if importlib.util.find_spec("granian") else [])]
    stack = "uvicorn"
    fastest = next(metric for metric in rows if metric.startswith(f"hello on dc-sim's stack ({stack}) vs the fastest"))
    expected = {
        **{f"hello req/s on {name} (c4)": "(anchor)" for name in stacks},
        "GET /healthz req/s (c4)": f">= 0.80 x hello ({stack})",
        "GET /sim/vms/{name} authenticated req/s (c4)": f">= 0.50 x hello ({stack})",
        fastest: ">= 0.80 x fastest",
        "GET /metrics p50, 20 VMs": "< 60 ms",
        "GET /metrics first of a 15 s bucket (2 s in), 20 VMs": "< 60 ms",
        "GET /metrics first of a 15 s bucket (0.1 s in), 20 VMs": "< 60 ms",
        "redis bus end to end ev/s vs XADD c50": "XADD",
        "redis bus end to end ev/s vs XADD c50 -P16": "(scale)",
        "redis bus, relay batches, ev/s vs XADD c50": "XADD",
        "memory bus end to end ev/s": "200,000",
    }
    assert sorted(rows) == sorted(expected)
    for metric, goal in expected.items():
        cells = re.split(r"\s{2,}", rows[metric].strip())
        assert goal in cells[4], rows[metric]
        assert float(cells[1].split()[0].replace(",", "")) > 0, rows[metric]
        if cells[2] != "-":
            # A ratio is dc-sim's figure over the anchor's, both measured in this run.
            dcsim, anchor = (float(cell.split()[0].replace(",", "")) for cell in cells[1:3])
            assert abs(float(cells[3]) - dcsim / anchor) < 0.01 * max(1.0, dcsim / anchor), rows[metric]
        assert cells[5] in {"pass", "FAIL", "-"}
    # dc-sim's figures are held against the hello on its own stack, measured in the same run.
    hello = re.split(r"\s{2,}", rows[f"hello req/s on {stack} (c4)"].strip())[1]
    for metric in ("GET /healthz req/s (c4)", "GET /sim/vms/{name} authenticated req/s (c4)", fastest):
        anchor_or_value = re.split(r"\s{2,}", rows[metric].strip())[1 if metric == fastest else 2]
        assert anchor_or_value == hello, rows[metric]
