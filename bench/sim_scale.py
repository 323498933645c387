"""Benchmark a large generated estate: seed it, serve it, and time the /sim API and /metrics.

Runs the real command line twice, as a user would: ``dcsim seed`` into a throw-away data
directory, then ``dcsim serve`` on a free 127.0.0.1 port. Prints one table: seed time,
start-up time, the server's resident memory, and request latencies. The server is
stopped by its PID at the end, whatever happens. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import http.client
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from common import bench_env, finish, getter, latency, progress, rss_mb, seed, serve


def main() -> int:
    args = _parse_args()
    dcsim = args.dcsim or str(Path(sys.executable).with_name("dcsim"))
    data_dir = Path(tempfile.mkdtemp(prefix="dcsim-bench-"))
    env = bench_env()
    rows: list[tuple[str, str]] = []
    server: subprocess.Popen[bytes] | None = None
    try:
        progress(f"seeding {args.vms} VMs into {data_dir}")
        seconds = seed(dcsim, data_dir, env, "--vms", str(args.vms), "--datacenters", str(args.datacenters),
                       "--clusters", str(args.clusters), "--hosts", str(args.hosts))  # fmt: skip
        rows.append((f"seed {args.vms} VMs (dcsim seed)", f"{seconds:.2f} s"))
        server, port, seconds = serve(dcsim, data_dir, env, args.start_timeout)
        rows.append(("start-up to /healthz 200", f"{seconds:.2f} s"))
        rows.append(("RSS after start", f"{rss_mb(server.pid):.0f} MB"))

        progress("measuring requests")
        token = (data_dir / "admin-token").read_text().strip()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        get = getter(connection, {"Authorization": f"Bearer {token}"})
        total = get("/sim/vms?limit=1")["total"]
        rows.append(("VMs served", str(total)))

        n = args.requests
        rows.append(latency(f"GET /sim/vms?limit=100 (x{n})", n, lambda: get("/sim/vms?limit=100")))
        rows.append(("RSS after those requests", f"{rss_mb(server.pid):.0f} MB"))
        last_cluster = f"cluster-{args.datacenters:02d}-{args.clusters:02d}"
        filtered = "/sim/vms?" + urlencode(
            {"limit": 100, "cluster": last_cluster, "power_state": "on", "tag": "env=prod"}
        )
        label = f"GET /sim/vms?limit=100 + cluster, power_state, tag (x{n})"
        rows.append(latency(label, n, lambda: get(filtered)))
        name = f"vm-{args.vms // 2:05d}"
        rows.append(latency(f"GET /sim/vms/{name} (x{n})", n, lambda: get(f"/sim/vms/{name}")))
        scrapes = args.scrapes
        rows.append(latency(f"GET /metrics (x{scrapes})", scrapes, lambda: get("/metrics", as_json=False)))
        rows.append(("RSS at the end", f"{rss_mb(server.pid):.0f} MB"))
        connection.close()
    finally:
        finish(server, data_dir, args.keep)
    _print_table(args, rows)
    return 0


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--datacenters", type=int, default=2)
    parser.add_argument("--clusters", type=int, default=4, help="clusters per datacenter")
    parser.add_argument("--hosts", type=int, default=16, help="hosts per cluster")
    parser.add_argument("--requests", type=int, default=50, help="requests per API measurement")
    parser.add_argument("--scrapes", type=int, default=10, help="scrapes of /metrics")
    parser.add_argument("--dcsim", help="the dcsim command (default: the one next to this Python)")
    parser.add_argument("--start-timeout", type=float, default=1800.0, help="seconds to wait for /healthz")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    return parser.parse_args()


def _print_table(args: argparse.Namespace, rows: list[tuple[str, str]]) -> None:
    estate = f"{args.datacenters} DC x {args.clusters} clusters x {args.hosts} hosts, {args.vms} VMs"
    width = max(len(label) for label, _ in rows)
    print(f"dc-sim scale benchmark: {estate}")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
