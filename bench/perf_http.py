"""HTTP figures for bench/run: requests per second of dc-sim and of a bare Litestar hello on
the same server stack, under the same closed-loop load (``perf_loadgen.go``), and the
latency of ``/metrics`` of a generated estate.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from common import free_port, getter, progress, stop

HERE = Path(__file__).resolve().parent


def build_loadgen(work: Path) -> Path:
    """Compile ``perf_loadgen.go`` (Go standard library only) into ``work``."""
    binary = work / "perf_loadgen"
    progress("building perf_loadgen.go")
    subprocess.run(["go", "build", "-o", str(binary), str(HERE / "perf_loadgen.go")], check=True, cwd=work, timeout=300)
    return binary


def load(loadgen: Path, url: str, connections: int, seconds: float, header: str = "") -> dict[str, float]:
    """Run the load generator against ``url``; its JSON figures (``rps``, ``errors``, ...)."""
    command = [str(loadgen), "-url", url, "-c", str(connections), "-d", f"{seconds}s"]
    if header:
        command += ["-H", header]
    progress(f"load: {url} x{connections} for {seconds:.0f} s")
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120).stdout
    figures: dict[str, float] = json.loads(output)
    if figures["errors"]:
        progress(f"  {figures['errors']:.0f} failed requests against {url}")
    return figures


def stacks() -> list[str]:
    """The server stacks ``dcsim serve`` can run on here: uvicorn, and Granian when installed."""
    return ["uvicorn", *(["granian"] if importlib.util.find_spec("granian") is not None else [])]


@contextlib.contextmanager
def hello_server(stack: str) -> Iterator[str]:
    """The bare Litestar hello (``perf_hello.py``) served on ``stack``: its URL while the
    block runs."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        # From bench/: Granian's worker imports the app as perf_hello:app.
        server = subprocess.Popen([sys.executable, str(HERE / "perf_hello.py"), str(port), stack],
                                  cwd=HERE, stdout=log, stderr=log)  # fmt: skip
        try:
            wait_for_port(port, server, 60)
            yield f"http://127.0.0.1:{port}/"
        finally:
            stop(server)


def metrics_p50(port: int, token: str, scrapes: int) -> float:
    """p50 in milliseconds of ``GET /metrics`` over one kept-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        get = getter(connection, {"Authorization": f"Bearer {token}"})
        get("/metrics", as_json=False)  # the first scrape may build caches
        timings = []
        for _ in range(scrapes):
            started = time.perf_counter()
            get("/metrics", as_json=False)
            timings.append((time.perf_counter() - started) * 1000)
        return statistics.median(timings)
    finally:
        connection.close()


def metrics_first_of_bucket(port: int, token: str, samples: int, bucket: float = 15.0, offset: float = 2.0) -> float:
    """Median milliseconds of the first ``GET /metrics`` of a time bucket, ``offset`` seconds
    into it (a Prometheus scrape lands anywhere in its interval; values change with the
    bucket, so the last scrape's VM rows are stale): one a bucket, ``samples`` buckets."""
    timings = []
    for _ in range(samples):
        time.sleep(bucket - time.time() % bucket + offset)
        # A connection per scrape: the server closes one left idle for a bucket.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            get = getter(connection, {"Authorization": f"Bearer {token}"})
            started = time.perf_counter()
            get("/metrics", as_json=False)
            timings.append((time.perf_counter() - started) * 1000)
        finally:
            connection.close()
    return statistics.median(timings)


def get_seconds(port: int, token: str, path: str) -> float:
    """Seconds of one authenticated ``GET path`` (body read) on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        started = time.perf_counter()
        getter(connection, {"Authorization": f"Bearer {token}"})(path, as_json=False)
        return time.perf_counter() - started
    finally:
        connection.close()


def wait_for_port(port: int, server: subprocess.Popen[bytes], timeout: float) -> None:
    """Return once ``GET /`` on ``port`` answers (any status); fail if ``server`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the hello server exited with {server.returncode}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.05)  # not listening yet
        finally:
            connection.close()
    raise SystemExit(f"the hello server did not answer within {timeout:.0f} s")
