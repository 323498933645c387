"""The chart's containers, run as processes with what the chart renders.

No cluster is reachable here, so the pods' commands are run on this machine instead:
the app container's args (``dcsim serve``, bound to loopback on a free port rather than
0.0.0.0:8000) and the worker container's (``dcsim ansible worker``), with the rendered
``dcsim.toml`` as ``DCSIM_CONFIG`` and the container environment, on a real PostgreSQL
(``DCSIM_TEST_DATABASE_URL``, a schema of its own) and a real ``redis-server``. The
probes the chart declares must answer 200, and a run posted to the app must be
executed by the worker: the chart's settings switch the app's own worker off.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import RELEASE, Manifest, one

from dcsim.testing import postgres_schema, required_database_url, stop_process

FULLNAME = f"{RELEASE}-dcsim"
DCSIM = [sys.executable, "-c", "from dcsim.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(probe: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = probe()
        except (httpx.HTTPError, OSError):
            result = None
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.5)


@pytest.fixture
def database() -> Iterator[str]:
    """An empty PostgreSQL schema's URL (the chart's store is PostgreSQL)."""
    with postgres_schema(required_database_url("this test"), "dcsim_deploy") as url:
        yield url


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server without persistence on a free loopback port, stopped by PID."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found (scripts/services.sh installs it)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=0.5).close() or True, 10, "redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def container_env(spec: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in spec["env"] if "value" in e}


def test_app_and_worker_run_with_the_rendered_settings(
    render: Callable[..., list[Manifest]], database: str, redis_url: str, tmp_path: Path
) -> None:
    manifests = render()
    config_map = one(manifests, "ConfigMap")
    app = one(manifests, "Deployment", FULLNAME)["spec"]["template"]["spec"]["containers"][0]
    worker = one(manifests, "Deployment", f"{FULLNAME}-worker")["spec"]["template"]["spec"]["containers"][0]
    settings_file = tmp_path / "dcsim.toml"
    settings_file.write_text(config_map["data"]["dcsim.toml"])
    assert container_env(app)["DCSIM_CONFIG"] == container_env(worker)["DCSIM_CONFIG"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")} | {
        "DCSIM_CONFIG": str(settings_file),
        "DCSIM_DATA_DIR": str(tmp_path / "data"),
        # The Secret's variables, pointed at this test's services.
        "DCSIM_DATABASE_URL": database,
        "DCSIM_REDIS_URL": redis_url,
    }
    port = free_port()
    args = list(app["args"])
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--port") + 1] = str(port)
    url = f"http://127.0.0.1:{port}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with (tmp_path / "app.log").open("wb") as log:
            processes.append(subprocess.Popen([*DCSIM, *args], env=env, stdout=log, stderr=subprocess.STDOUT))
        for probe in ("readinessProbe", "livenessProbe"):
            path = app[probe]["httpGet"]["path"]
            wait_for(lambda p=path: httpx.get(url + p, timeout=5).status_code == 200, 120, f"{path} to answer 200")
        token = subprocess.run(
            [*DCSIM, "token", "create", "--role", "operator", "--name", "deploy-test"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        worker_args = [arg.replace("$(POD_NAME)", "chart-worker") for arg in worker["args"]]
        with (tmp_path / "worker.log").open("wb") as log:
            processes.append(subprocess.Popen([*DCSIM, *worker_args], env=env, stdout=log, stderr=subprocess.STDOUT))
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        body = {"playbook": "hello-world", "extra_vars": {"target": "localhost"}}
        posted = api.post("/ansible/run", json=body)
        assert posted.status_code == 202, posted.text
        run_id = posted.json()["id"]

        def finished() -> dict[str, Any] | None:
            run = api.get(f"/ansible/runs/{run_id}").json()
            return run if run["status"] not in ("queued", "running") else None

        run = wait_for(finished, 180, "the worker to finish the run")
        assert run["status"] == "successful", run
        assert run["worker"] == "chart-worker", "the app ran it itself: its worker should be off"
    finally:
        for process in processes:
            stop_process(process, timeout=30)
