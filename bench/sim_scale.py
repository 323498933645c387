"""Benchmark a large generated estate: seed it, serve it, and time the /sim API and /metrics.

Runs the real command line twice, as a user would: ``dcsim seed`` into a throw-away data
directory, then ``dcsim serve`` on a free 127.0.0.1 port. Prints one table: seed time,
start-up time, the server's resident memory, and request latencies. The server is
stopped by its PID at the end, whatever happens. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

#: Seconds the server gets to exit after SIGTERM before it is killed.
STOP_TIMEOUT = 15.0


def main() -> int:
    args = _parse_args()
    dcsim = args.dcsim or str(Path(sys.executable).with_name("dcsim"))
    data_dir = Path(tempfile.mkdtemp(prefix="dcsim-bench-"))
    # A developer's DCSIM_* settings (another database, Redis) must not leak into the figures.
    env = {key: value for key, value in os.environ.items() if not key.startswith("DCSIM_")}
    env["DCSIM_LOG_LEVEL"] = "WARNING"
    rows: list[tuple[str, str]] = []
    server: subprocess.Popen[bytes] | None = None
    try:
        _progress(f"seeding {args.vms} VMs into {data_dir}")
        started = time.perf_counter()
        subprocess.run(
            [dcsim, "--data-dir", str(data_dir), "seed", "--vms", str(args.vms), "--datacenters",
             str(args.datacenters), "--clusters", str(args.clusters), "--hosts", str(args.hosts)],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600,
        )  # fmt: skip
        rows.append((f"seed {args.vms} VMs (dcsim seed)", f"{time.perf_counter() - started:.2f} s"))

        port = _free_port()
        log = (data_dir / "serve.log").open("wb")
        started = time.perf_counter()
        server = subprocess.Popen(
            [dcsim, "--data-dir", str(data_dir), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        _progress(f"serving on 127.0.0.1:{port} (pid {server.pid}); waiting for /healthz")
        _wait_healthy(port, server, args.start_timeout)
        rows.append(("start-up to /healthz 200", f"{time.perf_counter() - started:.2f} s"))
        rows.append(("RSS after start", f"{_rss_mb(server.pid):.0f} MB"))

        _progress("measuring requests")
        token = (data_dir / "admin-token").read_text().strip()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        get = _getter(connection, {"Authorization": f"Bearer {token}"})
        total = get("/sim/vms?limit=1")["total"]
        rows.append(("VMs served", str(total)))

        n = args.requests
        rows.append(_latency(f"GET /sim/vms?limit=100 (x{n})", n, lambda: get("/sim/vms?limit=100")))
        rows.append(("RSS after those requests", f"{_rss_mb(server.pid):.0f} MB"))
        last_cluster = f"cluster-{args.datacenters:02d}-{args.clusters:02d}"
        filtered = "/sim/vms?" + urlencode(
            {"limit": 100, "cluster": last_cluster, "power_state": "on", "tag": "env=prod"}
        )
        label = f"GET /sim/vms?limit=100 + cluster, power_state, tag (x{n})"
        rows.append(_latency(label, n, lambda: get(filtered)))
        name = f"vm-{args.vms // 2:05d}"
        rows.append(_latency(f"GET /sim/vms/{name} (x{n})", n, lambda: get(f"/sim/vms/{name}")))
        scrapes = args.scrapes
        rows.append(_latency(f"GET /metrics (x{scrapes})", scrapes, lambda: get("/metrics", as_json=False)))
        rows.append(("RSS at the end", f"{_rss_mb(server.pid):.0f} MB"))
        connection.close()
    finally:
        if server is not None:
            _stop(server)
        if args.keep:
            print(f"data dir kept: {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(port: int, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"dcsim serve exited with {server.returncode}; see serve.log (run with --keep)")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass  # not listening yet
        finally:
            connection.close()
        time.sleep(0.05)
    raise SystemExit(f"dcsim serve did not answer /healthz within {timeout:.0f} s")


def _getter(connection: http.client.HTTPConnection, headers: dict[str, str]) -> Callable[..., dict[str, object]]:
    """GET over one kept-alive connection (as a client library would); fails on non-200."""

    def get(path: str, as_json: bool = True) -> dict[str, object]:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status} {body[:200]!r}")
        return json.loads(body) if as_json else {}

    return get


def _latency(label: str, count: int, request: Callable[[], object]) -> tuple[str, str]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        request()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return label, f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no VmRSS for process {pid}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait(timeout=STOP_TIMEOUT)


def _progress(message: str) -> None:
    # Progress goes to stderr so that stdout is only the table.
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _print_table(args: argparse.Namespace, rows: list[tuple[str, str]]) -> None:
    estate = f"{args.datacenters} DC x {args.clusters} clusters x {args.hosts} hosts, {args.vms} VMs"
    width = max(len(label) for label, _ in rows)
    print(f"dc-sim scale benchmark: {estate}")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
