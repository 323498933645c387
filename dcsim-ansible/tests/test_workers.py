"""Acceptance 4: workers in processes of their own share one consumer group on Redis.

Ten queued runs are shared between two workers and each runs once; a worker killed
with SIGKILL mid-run leaves its run failed with the reason (the other worker finds the
lease it stopped renewing), and the next run still completes.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import Counter
from pathlib import Path

import psutil
import pytest
from conftest import PROJECT, VAULT_PASSWORD
from processes import Api, Redis, start_worker

from dcsim.testing import run_server


@pytest.fixture
def cluster(tmp_path: Path):
    redis = Redis(tmp_path / "redis")
    data_dir = tmp_path / "dc"
    env = {
        "DCSIM_DATA_DIR": str(data_dir),
        "DCSIM_BUS_DRIVER": "redis",
        "DCSIM_REDIS_URL": redis.url,
        "DCSIM_BUS_STREAM": "ansible-test",
        "DCSIM_BUS_REDELIVERY_SECONDS": "3",
        "DCSIM_PLUGINS__ANSIBLE__PROJECT_DIRS": str(PROJECT),
        "DCSIM_PLUGINS__ANSIBLE__VAULT_PASSWORD": VAULT_PASSWORD,
        "DCSIM_PLUGINS__ANSIBLE__LEASE_SECONDS": "3",
    }
    workers = {}
    try:
        with run_server(data_dir, env=env | {"DCSIM_PLUGINS__ANSIBLE__WORKER": "false"}) as server:
            # One through the plugin's `dcsim ansible worker`, one through `dcsim-ansible worker`.
            for name, via_dcsim in (("w1", True), ("w2", False)):
                workers[name] = start_worker(name, env, tmp_path / f"{name}.log", via_dcsim)
            yield Api(server.url, server.token), workers
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        redis.stop()


def test_two_workers_share_ten_runs_and_a_killed_worker_fails_its_run(cluster, tmp_path):
    api, workers = cluster
    ids = []
    for _ in range(10):
        status, run = api.call("POST", "/ansible/run", {"playbook": "local-sleep", "extra_vars": {"seconds": 1}})
        assert status == 202, run
        ids.append(run["id"])
    runs = [api.wait_run(run_id, timeout=240) for run_id in ids]
    assert [r["status"] for r in runs] == ["successful"] * 10
    assert {r["worker"] for r in runs} == {"w1", "w2"}, "both workers took runs"
    _, events = api.call("GET", "/events?limit=1000")
    started = Counter(e["data"]["run_id"] for e in events["items"] if e["type"] == "ansible.run.started")
    assert all(started[run_id] == 1 for run_id in ids), started
    for run_id in ids:
        _, page = api.call("GET", f"/ansible/runs/{run_id}/events?limit=1000")
        assert [e["event"] for e in page["items"]].count("playbook_on_start") == 1

    status, long_run = api.call("POST", "/ansible/run", {"playbook": "local-sleep", "extra_vars": {"seconds": 120}})
    running = api.wait_run(long_run["id"], until=("running",))
    victim = workers[running["worker"]]
    orphans = psutil.Process(victim.pid).children(recursive=True)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    try:
        failed = api.wait_run(long_run["id"], timeout=60)
    finally:
        for orphan in orphans:  # the killed worker's ansible, left behind by SIGKILL
            with contextlib.suppress(psutil.NoSuchProcess):
                orphan.kill()
    assert failed["status"] == "failed"
    assert f"worker {running['worker']} stopped while running it" in failed["reason"]

    status, after = api.call("POST", "/ansible/run", {"playbook": "local-echo"})
    done = api.wait_run(after["id"])
    assert done["status"] == "successful"
    assert done["worker"] != running["worker"]


def test_a_worker_of_its_own_refuses_the_in_process_bus(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")} | {"DCSIM_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-c", "from dcsim.cli import main; main()", "ansible", "worker"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "needs a shared bus" in result.stderr
