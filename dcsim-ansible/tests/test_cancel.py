"""Acceptance 3: canceling a long run stops it (status canceled) and leaves no ansible process."""

from __future__ import annotations

import os
import time
from typing import Any

import psutil
from conftest import wait_run


def _ansible_processes() -> list[psutil.Process]:
    found = []
    for process in psutil.Process(os.getpid()).children(recursive=True):
        try:
            cmdline = " ".join(process.cmdline())
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        if "ansible" in cmdline or "sleep 300" in cmdline:
            found.append(process)
    return found


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_cancel_a_long_run_kills_its_processes(make_client: Any, ansible_settings: dict[str, Any]) -> None:
    client = make_client(plugins={"ansible": ansible_settings})
    answer = client.post("/ansible/run", json={"playbook": "local-sleep", "extra_vars": {"seconds": 300}})
    run_id = answer.json()["id"]
    wait_run(client, run_id, until=("running",))
    deadline = time.monotonic() + 60
    while not any("sleep 300" in " ".join(p.cmdline()) for p in _ansible_processes() if _alive(p)):
        assert time.monotonic() < deadline, "the play never started its sleep"
        time.sleep(0.2)
    processes = _ansible_processes()
    assert any("ansible-playbook" in " ".join(p.cmdline()) for p in processes)

    canceled = client.post(f"/ansible/runs/{run_id}/cancel")
    assert canceled.status_code == 202 and canceled.json()["cancel_requested"] is True
    run = wait_run(client, run_id, timeout=60)
    assert run["status"] == "canceled" and run["reason"] == "canceled on request"
    assert [(p.pid, p.cmdline()) for p in processes if _alive(p)] == []
    again = client.post(f"/ansible/runs/{run_id}/cancel")
    assert again.status_code == 409


def test_cancel_a_queued_run_cancels_it_at_once(make_client: Any, ansible_settings: dict[str, Any]) -> None:
    client = make_client(plugins={"ansible": ansible_settings | {"worker": False}})
    run_id = client.post("/ansible/run", json={"playbook": "local-echo"}).json()["id"]
    answer = client.post(f"/ansible/runs/{run_id}/cancel")
    assert answer.status_code == 202
    assert answer.json()["status"] == "canceled" and answer.json()["reason"] == "canceled before it started"


def test_a_run_past_its_timeout_stops_with_status_timeout(make_client: Any, ansible_settings: dict[str, Any]) -> None:
    client = make_client(plugins={"ansible": ansible_settings})
    body = {"playbook": "local-sleep", "extra_vars": {"seconds": 300}, "timeout": 3}
    run = wait_run(client, client.post("/ansible/run", json=body).json()["id"], timeout=60)
    assert run["status"] == "timeout" and run["reason"] == "timed out after 3 s"
    assert [p.pid for p in _ansible_processes() if _alive(p)] == []
