"""Cross-process visibility lag (issue #17, acceptance 6): write through A, poll B.

Serves two ``dcsim serve`` processes (A and B, data directories of their own) on a
PostgreSQL database made for the run and a ``redis-server`` on a free loopback port, then
for each kind of write, one at a time: write through A, and from A's 2xx answer poll B
over a kept-alive connection, with no pause, until B answers with the write; the time is
the lag. Kinds:

- VM create, read back by name (``GET /sim/vms/{name}``: the world catches up first);
- VM power, read back as the VM's ``power_state`` through B's list (``GET /sim/vms?q=``);
- incident create, read back by number (``GET /itsm/incidents/{number}``);
- incident create, read back through B's list (the records' change feed);
- CI create, read back by id (``GET /cmdb/cis/{id}``).

Prints p50 and p99 in milliseconds. PostgreSQL comes from ``--database-url`` (default
``$DCSIM_TEST_DATABASE_URL``); its role must be allowed to create databases.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from common import bench_env, finish, free_port, progress, serve
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dcsim.store.engine import normalize_url


def poll(probe: Callable[[], bool], timeout: float) -> float:
    """Milliseconds until ``probe()`` is true, polled without a pause; TimeoutError after ``timeout`` s."""
    started = time.perf_counter()
    while not probe():
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"not visible after {timeout:.0f} s")
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], fraction: float) -> float:
    """The value at ``fraction`` of the sorted ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(a: httpx.Client, b: httpx.Client, rounds: int, timeout: float) -> dict[str, list[float]]:
    """The lags of every kind, ``rounds`` writes each."""
    lags: dict[str, list[float]] = {}

    def record(label: str, probe: Callable[[], bool]) -> None:
        lags.setdefault(label, []).append(poll(probe, timeout))

    def ok(answer: httpx.Response) -> Any:
        if not answer.is_success:
            raise SystemExit(f"{answer.request.method} {answer.request.url}: {answer.status_code} {answer.text[:200]}")
        return answer.json()

    for n in range(rounds):
        name = f"lag-{n:04d}"
        body = {"name": name, "cluster": "cluster-01", "cpu": 1, "memory_mb": 256, "disk_gb": 1, "power_on": False}
        ok(a.post("/sim/vms", json=body))
        record("VM create -> GET /sim/vms/{name} on B", lambda name=name: b.get(f"/sim/vms/{name}").status_code == 200)

        ok(a.post(f"/sim/vms/{name}/power", json={"action": "on"}))

        def powered_on(name: str = name) -> bool:
            items = b.get("/sim/vms", params={"q": name}).json()["items"]
            return any(vm["name"] == name and vm["power_state"] == "on" for vm in items)

        record("VM power on -> B's /sim/vms list", powered_on)

        number = ok(a.post("/itsm/incidents", json={"title": f"lag probe {n}"}))["number"]
        record(
            "incident create -> GET by number on B",
            lambda number=number: b.get(f"/itsm/incidents/{number}").status_code == 200,
        )
        number = ok(a.post("/itsm/incidents", json={"title": f"lag probe {n} (list)"}))["number"]

        def listed(title: str = f"lag probe {n} (list)", number: str = number) -> bool:
            items = b.get("/itsm/incidents", params={"q": title}).json()["items"]
            return any(incident["number"] == number for incident in items)

        record("incident create -> B's /itsm/incidents list", listed)

        ci = ok(a.post("/cmdb/cis", json={"type": "application", "name": f"lag-app-{n:04d}"}))["id"]
        record("CI create -> GET /cmdb/cis/{id} on B", lambda ci=ci: b.get(f"/cmdb/cis/{ci}").status_code == 200)
        if (n + 1) % 10 == 0:
            progress(f"{n + 1}/{rounds} rounds")
    return lags


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server without persistence on a free loopback port."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return process, f"redis://127.0.0.1:{port}/0"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50, help="writes of each kind")
    parser.add_argument("--database-url", default=os.environ.get("DCSIM_TEST_DATABASE_URL"), help="PostgreSQL")
    parser.add_argument("--dcsim", default=str(Path(sys.executable).with_name("dcsim")), help="the dcsim command")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a write may take to show on B")
    parser.add_argument("--start-timeout", type=float, default=300.0, help="seconds to wait for /healthz")
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    args = parser.parse_args()
    if not args.database_url:
        print("scaleout: give --database-url or set DCSIM_TEST_DATABASE_URL (PostgreSQL)", file=sys.stderr)
        return 2
    admin = create_engine(normalize_url(args.database_url), isolation_level="AUTOCOMMIT")
    database = f"dcsim_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    url = make_url(args.database_url).set(database=database).render_as_string(hide_password=False)
    root = Path(tempfile.mkdtemp(prefix="dcsim-scaleout-"))
    redis_process, redis_url = start_redis(root)
    servers: list[tuple[subprocess.Popen[bytes] | None, Path]] = []
    try:
        env = bench_env() | {"DCSIM_DATABASE_URL": url, "DCSIM_BUS_DRIVER": "redis", "DCSIM_REDIS_URL": redis_url}
        env["DCSIM_RATE_LIMIT"] = "1000000/minute"
        clients = []
        for name in ("a", "b"):
            data_dir = root / name
            data_dir.mkdir()
            if name == "b":  # the store has its admin token already: B is given A's
                shutil.copy(root / "a" / "admin-token", data_dir / "admin-token")
            server, port, took = serve(args.dcsim, data_dir, env, args.start_timeout)
            servers.append((server, data_dir))
            progress(f"{name.upper()} up in {took:.1f} s")
            token = (data_dir / "admin-token").read_text().strip()
            headers = {"Authorization": f"Bearer {token}"}
            clients.append(httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30))
        lags = measure(clients[0], clients[1], args.rounds, args.timeout)
        print(f"dc-sim cross-process visibility: {args.rounds} writes of each kind through A, read on B")
        print("(PostgreSQL store, Redis bus; B polled over one kept-alive connection, no pause)")
        print(f"{'write -> read on the other process':<46}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
        for label, values in lags.items():
            print(f"{label:<46}{statistics.median(values):>9.1f}{percentile(values, 0.99):>9.1f}{max(values):>9.1f}")
        return 0
    finally:
        for server, data_dir in servers:
            finish(server, data_dir, args.keep)
        redis_process.terminate()
        redis_process.wait(timeout=10)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
