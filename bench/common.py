"""What the benchmarks share: a served instance's lifecycle, latency figures, memory."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

#: Seconds the server gets to exit after SIGTERM before it is killed.
STOP_TIMEOUT = 15.0


def bench_env() -> dict[str, str]:
    """The environment without the developer's ``DCSIM_*`` settings (another database,
    Redis) that must not leak into the figures; quiet logs."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DCSIM_")}
    env["DCSIM_LOG_LEVEL"] = "WARNING"
    return env


def seed(dcsim: str, data_dir: Path, env: dict[str, str], *args: str) -> float:
    """Run ``dcsim seed`` with ``args`` into ``data_dir``; the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [dcsim, "--data-dir", str(data_dir), "seed", *args],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600,
    )  # fmt: skip
    return time.perf_counter() - started


def finish(server: subprocess.Popen[bytes] | None, data_dir: Path, keep: bool) -> None:
    """Stop the server by its PID; delete the data directory unless ``keep``."""
    if server is not None:
        stop(server)
    if keep:
        print(f"data dir kept: {data_dir}", file=sys.stderr)
    else:
        shutil.rmtree(data_dir, ignore_errors=True)


def serve(
    dcsim: str, data_dir: Path, env: dict[str, str], timeout: float, *args: str
) -> tuple[subprocess.Popen[bytes], int, float]:
    """``dcsim serve`` (with ``args``) on a free loopback port, waited for: the process, its
    port and the seconds until ``/healthz`` answered. Its log is ``serve.log`` in the data
    directory."""
    port = free_port()
    log = (data_dir / "serve.log").open("wb")
    started = time.perf_counter()
    server = subprocess.Popen(
        [dcsim, "--data-dir", str(data_dir), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    progress(f"serving on 127.0.0.1:{port} (pid {server.pid}); waiting for /healthz")
    wait_healthy(port, server, timeout)
    return server, port, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(port: int, server: subprocess.Popen[bytes], timeout: float) -> None:
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


def getter(connection: http.client.HTTPConnection, headers: dict[str, str]) -> Callable[..., dict[str, object]]:
    """GET over one kept-alive connection (as a client library would); fails on non-200."""

    def get(path: str, as_json: bool = True) -> dict[str, object]:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status} {body[:200]!r}")
        return json.loads(body) if as_json else {}

    return get


def latency(label: str, count: int, request: Callable[[], object]) -> tuple[str, str]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        request()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return label, f"p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no VmRSS for process {pid}")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait(timeout=STOP_TIMEOUT)


def progress(message: str) -> None:
    # Progress goes to stderr so that stdout is only the table.
    print(f"[bench] {message}", file=sys.stderr, flush=True)
