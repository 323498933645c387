"""The alert loop's latency with the real Prometheus and Alertmanager (issue #17, acceptance 6).

Serves a throw-away data directory with the installed plugins, starts Debian's Prometheus
(scrape and evaluation every second) and Alertmanager (group_wait and group_interval of a
second) on loopback exactly as tests/observability does, then for each round sets one
VM's load profile to ``stressed`` through dc-sim's API and times:

- load change -> ``HighCPUUsage`` firing in Prometheus;
- load change -> the incident open on the VM's CI (Alertmanager's webhook);
- load back to ``normal`` -> the incident resolved.

By default the rules are the test copy (``for:`` 5 s, range windows 20 s, thresholds and
labels as shipped): the figures are then the tools' and dc-sim's own latency plus those
timings. ``--shipped`` runs the shipped rules (``for: 2m`` over a 2-minute average:
about five minutes a round). Needs scripts/prometheus.sh first.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from common import bench_env, finish, progress, serve

# The stack tests/observability starts, reused so both time the same thing.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "observability"))
from stack import Prometheus, start_alertmanager, start_prometheus


def poll(probe: Callable[[], Any], timeout: float) -> float:
    """Seconds until ``probe()`` is truthy, polled every 0.1 s; TimeoutError after ``timeout``."""
    started = time.perf_counter()
    while not probe():
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"nothing after {timeout:.0f} s")
        time.sleep(0.1)
    return time.perf_counter() - started


def one_round(
    api: httpx.Client, prometheus: Prometheus, vm: dict[str, Any], timeout: float
) -> tuple[float, float, float]:
    """(to firing, to incident open, to resolved) for ``vm``, in seconds."""
    cis = api.get("/cmdb/cis", params={"type": "vm", "q": vm["name"]}).json()["items"]
    ci = next(c for c in cis if c["name"] == vm["name"])

    def incident() -> dict[str, Any] | None:
        items = api.get("/itsm/incidents", params={"ci": ci["id"]}).json()["items"]
        return next((i for i in items if (i.get("correlation_id") or "").startswith("alertmanager:")), None)

    def firing() -> bool:
        return any(
            a["labels"].get("alertname") == "HighCPUUsage"
            and a["labels"].get("vm") == vm["name"]
            and a["state"] == "firing"
            for a in prometheus.alerts()
        )

    api.patch(f"/sim/vms/{vm['id']}", json={"load_profile": "stressed"}).raise_for_status()
    changed = time.perf_counter()
    try:
        poll(firing, timeout)
        fired = time.perf_counter() - changed
        poll(incident, timeout)
        opened = time.perf_counter() - changed
    finally:
        api.patch(f"/sim/vms/{vm['id']}", json={"load_profile": "normal"}).raise_for_status()
    number = incident()["number"]  # type: ignore[index]
    resolved = poll(lambda: api.get(f"/itsm/incidents/{number}").json()["state"] == "resolved", timeout)
    return fired, opened, resolved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="VMs to stress, one after the other (default 3)")
    parser.add_argument("--shipped", action="store_true", help="the shipped rules' timing (minutes a round)")
    parser.add_argument("--dcsim", default=str(Path(sys.executable).with_name("dcsim")), help="the dcsim command")
    parser.add_argument("--start-timeout", type=float, default=300.0)
    parser.add_argument("--keep", action="store_true", help="keep the data directory (and the tools' logs)")
    args = parser.parse_args()
    tools = {name: shutil.which(name) for name in ("prometheus", "prometheus-alertmanager")}
    if None in tools.values():
        print("alert_loop: run scripts/prometheus.sh first (Debian's prometheus packages)", file=sys.stderr)
        return 2
    data_dir = Path(tempfile.mkdtemp(prefix="dcsim-alert-loop-"))
    (data_dir / "alertmanager").mkdir()
    (data_dir / "prometheus").mkdir()
    timeout = 600.0 if args.shipped else 120.0
    server = None
    try:
        server, port, took = serve(args.dcsim, data_dir, bench_env(), args.start_timeout)
        url = f"http://127.0.0.1:{port}"
        token = (data_dir / "admin-token").read_text().strip()
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
        operator = api.post("/tokens", json={"role": "operator", "name": "alertmanager"}).json()["secret"]
        progress(f"dc-sim up in {took:.1f} s; starting Alertmanager and Prometheus")
        found = {name: str(path) for name, path in tools.items()}
        with (
            start_alertmanager(found, data_dir / "alertmanager", url, operator) as alertmanager,
            start_prometheus(
                found, data_dir / "prometheus", port, alertmanager.url, fast=not args.shipped
            ) as prometheus,
        ):
            prometheus.wait_for_scrapes(3)
            vms = [v for v in api.get("/sim/vms", params={"limit": 1000}).json()["items"]
                   if v["power_state"] == "on" and v["load_profile"] == "normal"]  # fmt: skip
            rounds = []
            for vm in vms[: args.rounds]:
                progress(f"round {len(rounds) + 1}: stressing {vm['name']}")
                rounds.append(one_round(api, prometheus, vm, timeout))
        rules = (
            "shipped rules (for: 2m, 2m average)" if args.shipped else "test copy of the rules (for: 5s, 20s average)"
        )
        print(f"dc-sim alert loop: {len(rounds)} rounds, {rules}, scrape and evaluation every 1 s, group_wait 1 s")
        print(f"{'step':<44}{'p50 s':>8}{'max s':>8}")
        for label, column in (
            ("load change -> HighCPUUsage firing", 0),
            ("load change -> incident open on the VM's CI", 1),
            ("load back to normal -> incident resolved", 2),
        ):
            values = [r[column] for r in rounds]
            print(f"{label:<44}{statistics.median(values):>8.1f}{max(values):>8.1f}")
        return 0
    finally:
        finish(server, data_dir, args.keep)


if __name__ == "__main__":
    sys.exit(main())
