"""Every PromQL expression of the shipped Grafana dashboards, run against the real Prometheus.

The conftest's Prometheus scrapes a real dc-sim with the seed estate. Before querying, the
estate is given what any running estate has: a patch scan (GET /patch/compliance scans),
an out-of-band file change (drift), one open and one resolved incident. Then, for each
dashboard file, every panel target's ``expr`` and every template variable's query is
run through Prometheus's HTTP API with Grafana's variables filled in as Grafana would
(``$__rate_interval``, and each query variable's values, taken from its own query):
a parse error fails at once; an expression that still returns no series after the wait
fails, and so does a metric name that Prometheus has never scraped (so an expression
padded with ``or vector(0)`` cannot hide a misspelt metric).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dcsim.testing import ServerProcess

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((REPO / "deploy" / "grafana" / "dashboards").glob("*.json"))
#: Grafana's ``$__rate_interval`` is at least four scrape intervals; the test scrapes every
#: second, and a minute's window holds every sample taken so far.
RATE_INTERVAL = "1m"
#: How long an expression may take to return data (rates need two samples, and the
#: estate's changes reach /metrics through the bus).
DATA_TIMEOUT = 30.0
LABEL_VALUES = re.compile(r"^label_values\((?:(?P<selector>.+),\s*)?(?P<label>[a-zA-Z_]\w*)\)$")
METRIC_NAME = re.compile(r"\b(dcsim_[a-z0-9_]+)\b")


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panels(panel)


def expressions(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """``(panel title, expr)`` of every target that has one."""
    return [
        (panel.get("title", "?"), target["expr"])
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


def variables(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """The dashboard's query variables, in order (a later one may use an earlier one)."""
    return [v for v in dashboard.get("templating", {}).get("list", []) if v.get("type") == "query"]


def fill(expr: str, values: dict[str, str]) -> str:
    """``expr`` with Grafana's variables replaced: ``$__rate_interval`` and each query
    variable's regex of all its values (as a multi-value variable in a ``=~`` matcher)."""
    expr = expr.replace("$__rate_interval", RATE_INTERVAL)
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace(f"${{{name}}}", values[name]).replace(f"${name}", values[name])
    assert "$" not in expr, f"unresolved Grafana variable in {expr!r}"
    return expr


def query(prometheus_url: str, expr: str) -> list[dict[str, Any]]:
    """The instant result of ``expr``; AssertionError naming the expression on a parse error."""
    answer = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": expr}, timeout=10)
    body = answer.json()
    assert answer.status_code == 200 and body.get("status") == "success", f"{expr!r}: {body.get('error', body)}"
    result = body["data"]["result"]
    return result if isinstance(result, list) else [{"value": result}]


def label_values(prometheus_url: str, definition: str) -> list[str]:
    """The values Grafana's ``label_values([selector, ]label)`` lists, from Prometheus's series API."""
    match = LABEL_VALUES.match(definition.strip())
    assert match, f"not a label_values() query: {definition!r}"
    params = {"match[]": match["selector"]} if match["selector"] else {}
    answer = httpx.get(f"{prometheus_url}/api/v1/label/{match['label']}/values", params=params, timeout=10)
    body = answer.json()
    assert answer.status_code == 200 and body.get("status") == "success", f"{definition!r}: {body.get('error', body)}"
    return sorted(body["data"])


def eventually(probe: Any, timeout: float = DATA_TIMEOUT) -> Any:
    """``probe()`` once it is truthy, else its last (falsy) answer after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(1)


def unscraped(prometheus_url: str, names: set[str], timeout: float = DATA_TIMEOUT) -> set[str]:
    """The metrics of ``names`` that Prometheus has no series of, once all are there or
    after ``timeout`` s (waited for together, so a missing one costs the wait once)."""
    deadline = time.monotonic() + timeout
    while True:
        missing = {name for name in names if not query(prometheus_url, f'count({{__name__="{name}"}})')}
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(1)


@pytest.fixture(scope="module")
def estate(dcsim_stack: ServerProcess, prometheus: Any) -> str:
    """The seed estate after a patch scan, one drift and two incidents (one resolved),
    scraped at least twice since; returns Prometheus's URL."""
    headers = {"Authorization": f"Bearer {dcsim_stack.token}"}
    with httpx.Client(base_url=dcsim_stack.url, headers=headers, timeout=30) as api:
        api.get("/patch/compliance").raise_for_status()
        vms = api.get("/sim/vms", params={"limit": 100}).raise_for_status().json()["items"]
        node = [vm["node"]["name"] for vm in vms if vm.get("node")][-1]
        change = {"kind": "file", "node": node, "path": "/etc/hosts", "content": "10.9.9.9 dashboards-test\n"}
        api.post("/drift/truth/changes", json=change).raise_for_status()
        api.post("/itsm/incidents", json={"title": "dashboards test: open"}).raise_for_status()
        done = api.post("/itsm/incidents", json={"title": "dashboards test: resolved"}).raise_for_status().json()
        api.post(f"/itsm/incidents/{done['number']}/resolve", json={"resolution_notes": "test"}).raise_for_status()
    prometheus.wait_for_scrapes(3)
    return str(prometheus.url)


def test_the_dashboards_are_there() -> None:
    titles = {json.loads(path.read_text())["title"] for path in DASHBOARDS}
    assert titles == {
        "Datacenter Overview",
        "VM Performance",
        "Patch Compliance",
        "Drift Tracker",
        "ITSM Health",
        "Service Latency",
    }


@pytest.mark.parametrize("path", DASHBOARDS, ids=[path.stem for path in DASHBOARDS])
def test_every_expression_returns_data(path: Path, estate: str) -> None:
    dashboard = json.loads(path.read_text())
    targets = expressions(dashboard)
    assert targets, f"{path.name} has no PromQL target"
    values: dict[str, str] = {}
    problems: list[str] = []
    for variable in variables(dashboard):
        definition = variable["query"] if isinstance(variable["query"], str) else variable["query"]["query"]
        found = eventually(lambda d=definition: label_values(estate, fill(d, values)))
        if not found:
            problems.append(f"variable {variable['name']}: {definition!r} lists no value")
        # As Grafana writes a multi-value variable into a regex matcher: each value
        # regex-escaped, the backslashes doubled for PromQL's string literal.
        values[variable["name"]] = "|".join(re.escape(v).replace("\\", "\\\\") for v in found) or ".*"
    names = {name for _, expr in targets for name in METRIC_NAME.findall(expr)}
    missing = unscraped(estate, names)
    problems += [f"metric {name} is not among what Prometheus scraped" for name in sorted(missing)]
    for title, expr in targets:
        if missing & set(METRIC_NAME.findall(expr)):
            continue
        filled = fill(expr, values)
        if not eventually(lambda e=filled: query(estate, e)):
            problems.append(f"{title}: {filled!r} returned no series")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_a_broken_expression_is_caught(estate: str) -> None:
    """The check itself: a parse error and an unknown metric are both reported."""
    with pytest.raises(AssertionError, match="parse error"):
        query(estate, "sum(rate(dcsim_http_requests_total[1m])")
    assert query(estate, "dcsim_no_such_metric") == []
