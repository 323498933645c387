"""``dcsim serve --workers N``, and SQLite staying a single-process store (SPEC-018)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import datacenter_env, postgres_schema
from redis_server import RedisServer

from dcsim.testing import _free_port, run_server

SERVE = [sys.executable, "-c", "from dcsim.cli import main; main()", "serve"]


def _env(data_dir: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")}
    return env | {"DCSIM_DATA_DIR": str(data_dir), "DCSIM_PORT": str(port)} | (extra or {})


def _workers(pid: int) -> list[int]:
    """PIDs of the live worker processes the supervisor ``pid`` started (uvicorn spawns
    them, Granian forks them; not a multiprocessing resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z" and b"resource_tracker" not in command:
            found.append(int(entry.name))
    return found


def test_workers_on_sqlite_are_refused_with_the_way_out(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SERVE, "--workers", "2"],
        env=_env(tmp_path / "data", _free_port()),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode != 0
    assert "SQLite is the single-process embedded store" in done.stderr
    assert "PostgreSQL" in done.stderr and "Redis" in done.stderr


def test_a_second_server_on_one_sqlite_file_is_refused_naming_the_first(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with run_server(data_dir, log_path=tmp_path / "first.log") as first:
        second = subprocess.run(SERVE, env=_env(data_dir, _free_port()), capture_output=True, text=True, timeout=60)

        assert second.returncode != 0
        assert f"another dcsim serve (pid {first.process.pid}) already serves the SQLite store" in second.stderr
        assert httpx.get(first.url + "/healthz").status_code == 200


@pytest.fixture
def two_workers(shared_redis: RedisServer, tmp_path: Path) -> Iterator[tuple[str, int, str]]:
    """``dcsim serve --workers 2`` on a store of its own and the shared Redis: (URL,
    supervisor PID, admin token)."""
    with postgres_schema() as database_url:
        yield from _serve_workers(datacenter_env(database_url, shared_redis), tmp_path)


def _serve_workers(shared_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, int, str]]:
    port = _free_port()
    log = (tmp_path / "workers.log").open("wb")
    process = subprocess.Popen(
        [*SERVE, "--workers", "2"], env=_env(tmp_path / "data", port, shared_env), stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                    if response.status == 200 and len(_workers(process.pid)) >= 2:
                        break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "workers.log").read_text()
            time.sleep(0.2)
        token = (tmp_path / "data" / "admin-token").read_text().strip()
        yield url, process.pid, token
    finally:
        workers = _workers(process.pid)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pid in workers:
            # Only those this test started, should the supervisor have left one behind.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        log.close()


def test_two_workers_are_two_processes_acting_as_one_server(two_workers: tuple[str, int, str]) -> None:
    url, supervisor, token = two_workers
    workers = _workers(supervisor)
    assert len(workers) == 2
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    # Fresh connections each: the kernel spreads them over both workers.
    numbers = [
        httpx.post(f"{url}/itsm/incidents", json={"title": f"w{i}"}, headers=http.headers).json()["number"]
        for i in range(20)
    ]
    for number in numbers:
        assert httpx.get(f"{url}/itsm/incidents/{number}", headers=http.headers).status_code == 200

    assert len(set(numbers)) == 20
    deadline = time.monotonic() + 5
    while not set(numbers) <= {i["number"] for i in http.get("/itsm/incidents?limit=500").json()["items"]}:
        assert time.monotonic() < deadline
        time.sleep(0.1)
