"""One benchmark command (issue #18): dc-sim and its anchors back to back, one table.

    bench/run [http] [bus] [metrics] [--netbox] [options]     (no part named: all parts)

Parts, each measured against an anchor in the same window:

* ``http``: requests per second under ``--connections`` concurrent keep-alive clients
  (``perf_loadgen.go``) of a bare Litestar hello on every server stack ``dcsim serve``
  can run on here (uvicorn; Granian when installed), of dc-sim's ``/healthz`` and of an
  authenticated ``GET /sim/vms/{name}`` on dc-sim's stack (``--server``, default
  ``dcsim serve``'s), held against the hello on that stack, and that hello against the
  fastest one; ``--rounds`` rounds back to back, medians.
* ``bus``: events per second end to end (publish, read in a consumer group, ack) on the
  redis driver against ``redis-benchmark`` XADD with 50 clients (unpipelined, and
  pipelined for scale), published by 50 concurrent ``publish`` callers and, as dc-sim's
  outbox relay publishes every event, by ``publish_many`` of the relay's batch; and on
  the memory driver against its goal.
* ``metrics``: p50 of ``GET /metrics`` of a generated estate of ``--vms`` VMs, and the
  median of the first scrape of a 15 s bucket, 2 s in and 0.1 s in (``--bucket-scrapes``
  buckets each).
* ``--netbox`` (with any part): ``GET /cmdb/ansible/inventory`` of that estate against
  paging the same number of VMs out of a real NetBox's REST API, and
  ``ansible-inventory --list`` through ``dcsim-inventory`` against ``nb_inventory``
  (``perf_netbox.py``), and ansible-inventory's own floor: the same hosts and groups
  with two vars each. The bench sets NetBox up itself and keeps the loaded database
  (``--netbox-reload`` loads afresh).

The machine may be busy: nothing is refused, and the load average is printed beside the
table (before and after), so the figures read as indicative. Progress goes to stderr;
stdout is the table. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import perf_bus
import perf_http
import perf_netbox
from common import bench_env, finish, progress, seed, serve

from dcsim.bus.relay import BATCH as RELAY_BATCH
from dcsim.serving import pick_server

PARTS = ("http", "bus", "metrics")


class Row:
    """One line of the table: dc-sim's figure, the anchor's, and the goal they are held to."""

    def __init__(self, metric: str, dcsim: float, anchor: float | None, goal: str,
                 passed: bool | None, unit: str = "") -> None:  # fmt: skip
        self.metric, self.dcsim, self.anchor, self.goal, self.passed, self.unit = (
            metric,
            dcsim,
            anchor,
            goal,
            passed,
            unit,
        )

    def cells(self) -> list[str]:
        ratio = f"{self.dcsim / self.anchor:.3f}" if self.anchor else "-"
        verdict = "-" if self.passed is None else ("pass" if self.passed else "FAIL")
        anchor = "-" if self.anchor is None else _number(self.anchor)
        return [self.metric, _number(self.dcsim) + self.unit, anchor, ratio, self.goal, verdict]


def main() -> int:
    args = _parse_args()
    parts = args.parts or list(PARTS)
    load_before = _load_average()
    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="dcsim-bench-run-"))
    try:
        if "http" in parts or "metrics" in parts or args.netbox:
            served, inventory = _served(args, parts, work)
            rows += _progress(served)
            if args.netbox:
                rows += _progress(_netbox(args, work, inventory))
        if "bus" in parts:
            rows += _progress(_bus(args))
    finally:
        finish(None, work, keep=False)
    _print_table(rows, load_before, _load_average(), args)
    return 0


def _served(args: argparse.Namespace, parts: list[str], work: Path) -> tuple[list[Row], tuple[float, float, float]]:
    """The rows of the served estate, and its inventory timings (0 without --netbox)."""
    dcsim = args.dcsim or str(Path(sys.executable).with_name("dcsim"))
    # The request path is measured, not the per-token budget (600/minute by default).
    # Logged at --log-level (INFO, as dcsim serve runs by default: one access line a request).
    env = bench_env() | {"DCSIM_RATE_LIMIT": "off", "DCSIM_LOG_LEVEL": args.log_level}
    rows: list[Row] = []
    loadgen = perf_http.build_loadgen(work) if "http" in parts else None
    # dcsim serve's own choice unless --server says otherwise.
    stack = args.server or pick_server(None)
    data_dir = work / "data"
    data_dir.mkdir()
    progress(f"seeding {args.vms} VMs")
    seed(dcsim, data_dir, env, "--vms", str(args.vms))
    server: subprocess.Popen[bytes] | None = None
    try:
        server, port, _ = serve(dcsim, data_dir, env, args.start_timeout, "--server", stack)
        token = (data_dir / "admin-token").read_text().strip()
        if loadgen is not None:
            rows += _http_rows(args, loadgen, stack, port, token)
        if "metrics" in parts:
            p50 = perf_http.metrics_p50(port, token, args.scrapes)
            rows.append(Row(f"GET /metrics p50, {args.vms} VMs", p50, None, "< 60 ms", p50 < 60, unit=" ms"))
            for offset in (2.0, 0.1):
                # 2 s in, and right at the boundary, where a scrape used to derive the bucket itself.
                first = perf_http.metrics_first_of_bucket(port, token, args.bucket_scrapes, offset=offset)
                rows.append(Row(f"GET /metrics first of a 15 s bucket ({offset:g} s in), {args.vms} VMs", first, None,
                                "< 60 ms", first < 60, unit=" ms"))  # fmt: skip
        inventory = listed = floor = 0.0
        if args.netbox:
            inventory = perf_http.get_seconds(port, token, "/cmdb/ansible/inventory")
            script = str(Path(dcsim).with_name("dcsim-inventory"))
            env_inventory = env | {"DCSIM_URL": f"http://127.0.0.1:{port}", "DCSIM_TOKEN": token}
            listed, hosts = perf_netbox.inventory_seconds(["-i", script], env_inventory)
            if len(hosts) < args.vms:
                raise SystemExit(f"dcsim-inventory listed {len(hosts)} hosts, expected {args.vms}")
            floor = perf_netbox.floor_seconds(f"http://127.0.0.1:{port}", token, work)
    finally:
        finish(server, data_dir, keep=False)
    return rows, (inventory, listed, floor)


def _http_rows(args: argparse.Namespace, loadgen: Path, stack: str, port: int, token: str) -> list[Row]:
    """The hello on every stack, then dc-sim's /healthz and VM read on ``stack``, in
    ``--rounds`` rounds back to back (medians); the hello servers run throughout."""
    connections = args.connections
    base = f"http://127.0.0.1:{port}"
    vm_url = f"{base}/sim/vms/vm-{max(1, args.vms // 2):05d}"
    figures: dict[str, list[float]] = defaultdict(list)
    stacks = perf_http.stacks()
    with contextlib.ExitStack() as hellos:
        urls = {name: hellos.enter_context(perf_http.hello_server(name)) for name in stacks}
        for _ in range(args.rounds):
            for name, url in urls.items():
                figures[name].append(perf_http.load(loadgen, url, connections, args.seconds)["rps"])
            figures["healthz"].append(perf_http.load(loadgen, f"{base}/healthz", connections, args.seconds)["rps"])
            figures["vm"].append(perf_http.load(loadgen, vm_url, connections, args.seconds,
                                                header=f"Authorization: Bearer {token}")["rps"])  # fmt: skip
    median = {name: statistics.median(values) for name, values in figures.items()}
    fastest = max(stacks, key=lambda name: median[name])
    hello, healthz, vm = median[stack], median["healthz"], median["vm"]
    rows = [Row(f"hello req/s on {name} (c{connections})", median[name], None, "(anchor)", None) for name in stacks]
    rows.append(Row(f"GET /healthz req/s (c{connections})", healthz, hello, f">= 0.80 x hello ({stack})",
                    healthz >= 0.8 * hello))  # fmt: skip
    rows.append(Row(f"GET /sim/vms/{{name}} authenticated req/s (c{connections})", vm, hello,
                    f">= 0.50 x hello ({stack})", vm >= 0.5 * hello))  # fmt: skip
    rows.append(Row(f"hello on dc-sim's stack ({stack}) vs the fastest ({fastest})", hello, median[fastest],
                    ">= 0.80 x fastest", hello >= 0.8 * median[fastest]))  # fmt: skip
    return rows


def _netbox(args: argparse.Namespace, work: Path, timings: tuple[float, float, float]) -> list[Row]:
    inventory, listed, floor = timings
    rows: list[Row] = []
    if args.netbox:
        try:
            paging, nb_inventory = perf_netbox.netbox_seconds(args.vms, work, reload=args.netbox_reload)
        except (RuntimeError, OSError, subprocess.CalledProcessError, SystemExit) as exc:
            # The other parts' rows are still worth printing.
            progress(f"--netbox failed: {exc}")
            return rows
        rows.append(Row(f"{args.vms} VMs: /cmdb/ansible/inventory vs NetBox REST paging", inventory, paging,
                        "<= 0.05 x NetBox", inventory <= 0.05 * paging, unit=" s"))  # fmt: skip
        rows.append(Row(f"{args.vms} VMs: ansible-inventory --list, dcsim-inventory vs nb_inventory", listed,
                        nb_inventory, "<= 0.10 x NetBox", listed <= 0.10 * nb_inventory, unit=" s"))  # fmt: skip
        # What ansible-inventory spends on the hosts themselves: no source can go below it.
        rows.append(Row(f"{args.vms} hosts, 2 vars each: ansible-inventory --list floor vs nb_inventory", floor,
                        nb_inventory, "(floor)", None, unit=" s"))  # fmt: skip
    return rows


def _bus(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    with perf_bus.redis_server() as url:
        progress("redis-benchmark XADD, 50 clients")
        xadd = perf_bus.redis_benchmark_xadd(url, args.xadd_requests, 50, 1)
        progress("redis-benchmark XADD, 50 clients, pipeline 16")
        pipelined = perf_bus.redis_benchmark_xadd(url, args.xadd_requests * 4, 50, 16)
        redis_e2e = perf_bus.end_to_end("redis", url, args.events, args.publishers, args.read_count)
    rows.append(Row("redis bus end to end ev/s vs XADD c50", redis_e2e, xadd, ">= 0.50 x XADD",
                    redis_e2e >= 0.5 * xadd))  # fmt: skip
    rows.append(Row("redis bus end to end ev/s vs XADD c50 -P16", redis_e2e, pipelined, "(scale)", None))
    with perf_bus.redis_server() as url:
        relayed = perf_bus.end_to_end("redis", url, args.events, 1, args.read_count, batch=RELAY_BATCH)
    rows.append(Row("redis bus, relay batches, ev/s vs XADD c50", relayed, xadd, ">= 0.50 x XADD",
                    relayed >= 0.5 * xadd))  # fmt: skip
    memory = perf_bus.end_to_end("memory", None, args.events * 4, args.publishers, args.read_count)
    rows.append(Row("memory bus end to end ev/s", memory, None, ">= 200,000", memory >= 200_000))
    return rows


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", metavar="part", help=f"{', '.join(PARTS)} (default: all)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent HTTP clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of load per HTTP figure")
    parser.add_argument("--rounds", type=int, default=1, help="HTTP rounds back to back (figures are medians)")
    parser.add_argument("--server", choices=["uvicorn", "granian"],
                        help="dc-sim's server stack (default: dcsim serve's, uvicorn)")  # fmt: skip
    parser.add_argument("--vms", type=int, default=10_000, help="VMs of the served estate")
    parser.add_argument("--scrapes", type=int, default=10, help="scrapes of /metrics")
    parser.add_argument("--bucket-scrapes", type=int, default=3,
                        help="first scrapes of a 15 s bucket of /metrics (one a bucket)")  # fmt: skip
    parser.add_argument("--events", type=int, default=50_000, help="events per redis bus run (x4 on memory)")
    parser.add_argument("--publishers", type=int, default=50, help="concurrent publishing tasks")
    parser.add_argument("--read-count", type=int, default=100, help="deliveries asked for per read")
    parser.add_argument("--xadd-requests", type=int, default=200_000, help="XADDs of the unpipelined anchor")
    parser.add_argument("--netbox", action="store_true",
                        help="also page a real NetBox loaded with --vms VMs (set up by the bench; the load is kept)")  # fmt: skip
    parser.add_argument("--netbox-reload", action="store_true",
                        help="load NetBox afresh rather than copy the database kept by the last --netbox run")  # fmt: skip
    parser.add_argument("--log-level", default="INFO", help="dc-sim's log level (INFO logs each request)")
    parser.add_argument("--dcsim", help="the dcsim command (default: the one next to this Python)")
    parser.add_argument("--start-timeout", type=float, default=1800.0, help="seconds to wait for /healthz")
    args = parser.parse_args()
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    return args


def _progress(rows: list[Row]) -> list[Row]:
    # Each part's rows as soon as it is done, so a run that fails later loses nothing.
    for row in rows:
        progress(" | ".join(row.cells()))
    return rows


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _number(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _print_table(rows: list[Row], before: str, after: str, args: argparse.Namespace) -> None:
    header = ["metric", "dc-sim", "anchor", "ratio", "goal", "pass/fail"]
    table = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print(f"dc-sim bench/run: {os.cpu_count()} CPUs, load average {before} (before) {after} (after)")
    for line in table:
        print("  ".join(cell.ljust(width) if i == 0 or i == 4 else cell.rjust(width)
                        for i, (cell, width) in enumerate(zip(line, widths, strict=True))))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
