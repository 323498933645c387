"""The shipped rules read series dc-sim really exports, and the test copy changes only their timing."""

from __future__ import annotations

import re

import httpx
import yaml
from stack import FAST_FOR, FAST_WINDOW, RULES, fast_rules

from dcsim.testing import ServerProcess

#: Prometheus's own series the rules may read.
PROMETHEUS_SERIES = {"up"}


def rule_metrics() -> set[str]:
    document = yaml.safe_load(RULES.read_text())
    names: set[str] = set()
    for group in document["groups"]:
        for rule in group["rules"]:
            names |= set(re.findall(r"\b(dcsim_[a-z0-9_]+|up)\b", rule["expr"]))
    return names


def test_every_series_a_rule_reads_is_exported_by_dcsim(dcsim_stack: ServerProcess) -> None:
    exposition = httpx.get(f"{dcsim_stack.url}/metrics", timeout=10).text
    exported = set(re.findall(r"^# HELP (\S+) ", exposition, flags=re.MULTILINE))
    # Counters are exported as <name>_total; HELP names the family without the suffix.
    exported |= {f"{name}_total" for name in exported}
    needed = rule_metrics() - PROMETHEUS_SERIES
    assert {"dcsim_vm_cpu_usage", "dcsim_drift_open_count", "dcsim_patch_compliance_pct"} <= needed
    assert needed <= exported, f"not exported: {sorted(needed - exported)}"


def test_the_fast_copy_changes_only_for_and_range_windows(tmp_path) -> None:
    shipped = yaml.safe_load(RULES.read_text())
    fast = yaml.safe_load(fast_rules(RULES, tmp_path / "fast.yml").read_text())
    for group, fast_group in zip(shipped["groups"], fast["groups"], strict=True):
        for rule, fast_rule in zip(group["rules"], fast_group["rules"], strict=True):
            assert fast_rule["labels"] == rule["labels"] and fast_rule["annotations"] == rule["annotations"]
            assert fast_rule.get("for", FAST_FOR) == FAST_FOR
            assert fast_rule["expr"] == re.sub(r"\[\d+[smhd]\]", f"[{FAST_WINDOW}]", rule["expr"])
    high_cpu = next(r for g in fast["groups"] for r in g["rules"] if r["alert"] == "HighCPUUsage")
    assert high_cpu["expr"] == f"avg_over_time(dcsim_vm_cpu_usage[{FAST_WINDOW}]) > 0.75"
