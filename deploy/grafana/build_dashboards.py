"""dc-sim's Grafana dashboards, built with grafana-foundation-sdk into ``dashboards/*.json``.

Run ``python deploy/grafana/build_dashboards.py`` after changing a dashboard here: it
rewrites the JSON files that Grafana provisions. ``--check`` writes nothing and exits 1
when a committed file differs from what this module builds (tests/deploy runs it, so a
stale JSON file fails CI). Every query names the Prometheus data source through the
``datasource`` variable; the metric names are the ones ``GET /metrics`` serves
(specs/017-observability.md lists them with their units).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from panels import (
    GOOD_LOW,
    RATE,
    VM_SELECTOR,
    bars,
    board,
    graph,
    grid,
    label_variable,
    pie,
    query,
    single,
    steps,
    with_panels,
)

#: Series of the estate's shared state (the store's incidents, drift, patch results, the
#: world) are served alike by every dc-sim process that Prometheus scrapes, so panels take
#: ``max by`` the metric's own labels before adding up: N processes are not counted N
#: times. Per-process series (HTTP requests) are summed as they are.
OPEN_INCIDENTS = "max by (priority) (dcsim_itsm_open_incidents)"
OPEN_DRIFT = "max by (category, severity) (dcsim_drift_open_count)"


def vm_series(metric: str) -> str:
    """``metric`` of the VMs the dashboard's variables select, one series per VM."""
    return f"max by (platform, cluster, host, vm) ({metric}{{{VM_SELECTOR}}})"


#: Where the JSON files go (Grafana's dashboards provider reads this folder).
OUT = Path(__file__).resolve().parent / "dashboards"


def overview() -> gd.Dashboard:
    """Datacenter Overview: the estate at a glance, and how busy dc-sim itself is."""
    return with_panels(
        board("dcsim-overview", "Datacenter Overview", "Hosts, VMs, capacity, drift, patch and incidents", ["estate"]),
        (
            "Estate",
            [
                single(
                    "Hosts up",
                    "sum(max by (cluster, host) (dcsim_host_power_state))",
                    thresholds=steps((None, "red"), (1, "green")),
                ),
                single(
                    "Hosts down",
                    "count(max by (cluster, host) (dcsim_host_power_state) == 0) or vector(0)",
                    thresholds=GOOD_LOW,
                ),
                single("VMs placed", "sum(max by (cluster) (dcsim_cluster_vm_count))"),
                single("Open incidents", f"sum({OPEN_INCIDENTS})", thresholds=GOOD_LOW),
                single("Open drift", f"sum({OPEN_DRIFT})", thresholds=GOOD_LOW),
                single(
                    "Patch compliance",
                    'max(dcsim_patch_compliance_pct{os="all"})',
                    unit="percent",
                    thresholds=steps((None, "red"), (80, "orange"), (95, "green")),
                ),
            ],
        ),
        (
            "Capacity",
            [
                graph(
                    "Cluster CPU capacity used",
                    query("max by (cluster) (dcsim_cluster_capacity_used)", "{{cluster}}"),
                    unit="percentunit",
                    span=8,
                    description="Load-weighted share of the running hosts' cores in use (ClusterCapacityHigh above 85 %).",
                ),
                bars(
                    "vCPU overcommit",
                    "max by (cluster) (dcsim_cluster_overcommit_ratio)",
                    "{{cluster}}",
                    "short",
                    steps((None, "green"), (2, "orange"), (4, "red")),
                    span=4,
                ),
                graph(
                    "Host inlet temperature",
                    query("max by (host) (dcsim_host_temperature)", "{{host}}"),
                    unit="celsius",
                ),
                graph(
                    "API requests by status",
                    query(f"sum by (status) (rate(dcsim_http_requests_total[{RATE}]))", "{{status}}"),
                    unit="reqps",
                ),
            ],
        ),
    )


def vm_performance() -> gd.Dashboard:
    """VM Performance: CPU, memory, disk and network per VM, filtered by platform, cluster, VM."""
    dashboard = (
        board("dcsim-vm-performance", "VM Performance", "Simulated guest metrics per VM", ["vm"])
        .with_variable(label_variable("platform", "platform", "dcsim_vm_cpu_usage", "Platform"))
        .with_variable(label_variable("cluster", "cluster", 'dcsim_vm_cpu_usage{platform=~"$platform"}', "Cluster"))
        .with_variable(
            label_variable("vm", "vm", 'dcsim_vm_cpu_usage{platform=~"$platform", cluster=~"$cluster"}', "VM")
        )
    )
    return with_panels(
        dashboard,
        (
            "Usage",
            [
                graph(
                    "CPU usage",
                    query(vm_series("dcsim_vm_cpu_usage"), "{{vm}}"),
                    unit="percentunit",
                    description="Share of the VM's vCPUs in use (HighCPUUsage: above 75 % for 2 minutes).",
                ),
                graph("Memory usage", query(vm_series("dcsim_vm_memory_usage"), "{{vm}}"), unit="percentunit"),
                graph("Disk throughput", query(vm_series("dcsim_vm_disk_io"), "{{vm}}"), unit="Bps"),
                graph("Network throughput", query(vm_series("dcsim_vm_net_io"), "{{vm}}"), unit="Bps"),
            ],
        ),
        (
            "Hot spots",
            [
                grid("Busiest VMs (CPU)", f"topk(5, {vm_series('dcsim_vm_cpu_usage')})", unit="percentunit"),
                graph(
                    "CPU of the selected VMs by host",
                    query(f"sum by (host) ({vm_series('dcsim_vm_cpu_usage')})", "{{host}}"),
                    unit="short",
                    description="Sum of the VMs' CPU fractions per host: vCPU-weighted load is in Datacenter Overview.",
                ),
            ],
        ),
    )


def patch_compliance() -> gd.Dashboard:
    """Patch Compliance: compliance percent and pending CVEs, as the last scans left them."""
    compliance = steps((None, "red"), (80, "orange"), (95, "green"))
    return with_panels(
        board("dcsim-patch", "Patch Compliance", "Compliance and pending CVEs per OS (from the last scans)", ["patch"]),
        (
            "Compliance",
            [
                single("Estate compliance", 'max(dcsim_patch_compliance_pct{os="all"})', "percent", compliance),
                single("Pending CVEs", 'max(dcsim_patch_pending_cves{os="all"})', thresholds=GOOD_LOW),
                single(
                    "OS below target",
                    'count(max by (os) (dcsim_patch_compliance_pct{os!="all"}) < 80) or vector(0)',
                    thresholds=GOOD_LOW,
                ),
                bars(
                    "Compliance by OS",
                    'max by (os) (dcsim_patch_compliance_pct{os!="all"})',
                    "{{os}}",
                    "percent",
                    compliance,
                ),
                bars(
                    "Pending CVEs by OS",
                    'max by (os) (dcsim_patch_pending_cves{os!="all"})',
                    "{{os}}",
                    "short",
                    steps((None, "green"), (1, "orange"), (5, "red")),
                ),
            ],
        ),
        (
            "Trend",
            [
                graph(
                    "Compliance over time",
                    query("max by (os) (dcsim_patch_compliance_pct)", "{{os}}"),
                    unit="percent",
                    description="PatchNonCompliance fires below 80 % for 15 minutes.",
                ),
                graph("Pending CVEs over time", query("max by (os) (dcsim_patch_pending_cves)", "{{os}}")),
            ],
        ),
    )


def drift_tracker() -> gd.Dashboard:
    """Drift Tracker: open drift by category and severity, and how fast new drift appears."""
    return with_panels(
        board("dcsim-drift", "Drift Tracker", "Drift events not resolved, and drift opened over time", ["drift"]),
        (
            "Open drift",
            [
                single("Open drift events", f"sum({OPEN_DRIFT})", thresholds=GOOD_LOW),
                single(
                    "High or critical",
                    'sum(max by (category, severity) (dcsim_drift_open_count{severity=~"high|critical"})) or vector(0)',
                    thresholds=GOOD_LOW,
                ),
                single("Opened in the last hour", "sum(max by (category) (increase(dcsim_drift_events_total[1h])))"),
                pie("By category", f"sum by (category) ({OPEN_DRIFT})", "{{category}}", span=12),
                pie("By severity", f"sum by (severity) ({OPEN_DRIFT})", "{{severity}}", span=12),
            ],
        ),
        (
            "Over time",
            [
                graph(
                    "Open drift by category",
                    query(f"sum by (category) ({OPEN_DRIFT})", "{{category}}"),
                    description="DriftDetected fires while any is open for a minute.",
                ),
                graph(
                    "Drift opened per minute",
                    query(f"max by (category) (rate(dcsim_drift_events_total[{RATE}])) * 60", "{{category}}"),
                ),
            ],
        ),
    )


def itsm_health() -> gd.Dashboard:
    """ITSM Health: open incidents by priority, SLA breaches and time to resolve."""
    return with_panels(
        board("dcsim-itsm", "ITSM Health", "Incidents open, past their SLA, and time to resolve", ["itsm"]),
        (
            "Incidents",
            [
                single("Open incidents", f"sum({OPEN_INCIDENTS})", thresholds=GOOD_LOW),
                single(
                    "Open P1",
                    'max(dcsim_itsm_open_incidents{priority="P1"})',
                    thresholds=GOOD_LOW,
                ),
                single(
                    "Past their SLA", "sum(max by (priority) (dcsim_itsm_sla_breached_incidents))", thresholds=GOOD_LOW
                ),
                bars(
                    "Open incidents by priority",
                    OPEN_INCIDENTS,
                    "{{priority}}",
                    "short",
                    steps((None, "green"), (1, "orange"), (5, "red")),
                ),
            ],
        ),
        (
            "Service levels",
            [
                graph(
                    "Open incidents by priority",
                    query(OPEN_INCIDENTS, "{{priority}}"),
                    span=8,
                ),
                single("Mean time to resolve", "max(dcsim_itsm_mttr_seconds)", unit="s"),
                graph(
                    "SLA targets missed per hour, by kind",
                    query(
                        "sum by (kind) (max by (priority, kind) (increase(dcsim_itsm_sla_breaches_total[1h])))",
                        "{{kind}}",
                    ),
                    description="Response and resolution targets missed, each incident's target counted once.",
                ),
                graph(
                    "Incidents past their SLA by priority",
                    query("max by (priority) (dcsim_itsm_sla_breached_incidents)", "{{priority}}"),
                    description="IncidentSLABreached fires while any open incident has missed its target.",
                ),
            ],
        ),
    )


def service_latency() -> gd.Dashboard:
    """Service Latency: p50/p95/p99 of dc-sim's HTTP answers, and its event pipeline's backlog."""
    buckets = f'rate(dcsim_http_request_duration_seconds_bucket{{route=~"$route"}}[{RATE}])'
    requests = f'rate(dcsim_http_requests_total{{route=~"$route"}}[{RATE}])'
    dashboard = board(
        "dcsim-service-latency",
        "Service Latency",
        "Answer times per route (dcsim_http_request_duration_seconds), and the bus, outbox and runner backlogs",
        ["latency"],
    ).with_variable(label_variable("route", "route", "dcsim_http_request_duration_seconds_count", "Route"))
    return with_panels(
        dashboard,
        (
            "HTTP",
            [
                graph(
                    "Latency of the selected routes",
                    *(
                        query(f"histogram_quantile({q}, sum by (le) ({buckets}))", name, ref)
                        for q, name, ref in ((0.5, "p50", "A"), (0.95, "p95", "B"), (0.99, "p99", "C"))
                    ),
                    unit="s",
                ),
                graph(
                    "p99 by route",
                    query(f"histogram_quantile(0.99, sum by (le, route) ({buckets}))", "{{route}}"),
                    unit="s",
                ),
                graph("Requests by route", query(f"sum by (route) ({requests})", "{{route}}"), unit="reqps"),
                graph(
                    "Server errors",
                    query(
                        f'(sum(rate(dcsim_http_requests_total{{route=~"$route", status=~"5.."}}[{RATE}])) or vector(0))'
                        f" / sum({requests})",
                        "5xx share",
                    ),
                    unit="percentunit",
                ),
            ],
        ),
        (
            "Event pipeline",
            [
                graph(
                    "Bus lag by subscriber group",
                    query("max by (group) (dcsim_bus_lag_events)", "{{group}}"),
                    span=8,
                    description="Events published that the group has not been handed yet.",
                ),
                single(
                    "Outbox backlog",
                    "max(dcsim_outbox_pending_events)",
                    thresholds=steps((None, "green"), (100, "red")),
                ),
                graph(
                    "Unacknowledged events by subscriber group",
                    query("max by (group) (dcsim_bus_pending_events)", "{{group}}"),
                    span=8,
                ),
                single(
                    "Runs waiting for a runner",
                    "max(dcsim_ansible_queued_runs)",
                    thresholds=steps((None, "green"), (10, "red")),
                ),
            ],
        ),
    )


#: File name (without .json) -> builder, one per dashboard.
DASHBOARDS: dict[str, Callable[[], gd.Dashboard]] = {
    "datacenter-overview": overview,
    "vm-performance": vm_performance,
    "patch-compliance": patch_compliance,
    "drift-tracker": drift_tracker,
    "itsm-health": itsm_health,
    "service-latency": service_latency,
}


def render(builder: Callable[[], gd.Dashboard]) -> str:
    """The dashboard's JSON as written to its file (stable: sorted keys, two-space indent)."""
    return json.dumps(builder().build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write every dashboard's JSON into :data:`OUT`, or with ``--check`` say which are stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is missing or stale")
    args = parser.parse_args(argv)
    stale = []
    for name, builder in DASHBOARDS.items():
        path = OUT / f"{name}.json"
        text = render(builder)
        if path.exists() and path.read_text() == text:
            continue
        if args.check:
            stale.append(path.name)
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    known = {f"{name}.json" for name in DASHBOARDS}
    extra = sorted(p.name for p in OUT.glob("*.json") if p.name not in known)
    if args.check and (stale or extra):
        print(f"stale: {', '.join(stale) or '-'}; not built here: {', '.join(extra) or '-'}", file=sys.stderr)
        print("run: python deploy/grafana/build_dashboards.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
