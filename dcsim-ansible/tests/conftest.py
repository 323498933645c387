"""Fixtures of the runner's tests: a project folder of controller-only playbooks, and
helpers to wait for runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).parent / "project"
VAULT_PASSWORD = "vault-pass-for-tests"


@pytest.fixture
def ansible_settings() -> dict[str, Any]:
    """``[plugins.ansible]`` for tests: the test project, a vault password, short leases."""
    return {"project_dirs": [str(PROJECT)], "vault_password": VAULT_PASSWORD, "lease_seconds": 3}


def wait_run(client: Any, run_id: str, timeout: float = 120.0, until: tuple[str, ...] = ()) -> dict[str, Any]:
    """Poll ``GET /ansible/runs/{id}`` until the run is over (or in one of ``until``)."""
    final = until or ("successful", "failed", "canceled", "timeout")
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(f"/ansible/runs/{run_id}")
        assert answer.status_code == 200, answer.text
        run: dict[str, Any] = answer.json()
        if run["status"] in final:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run['status']} after {timeout} s")
        time.sleep(0.2)
