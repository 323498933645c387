"""Real processes for the runner's tests: a redis-server, ``dcsim serve`` and ``dcsim-ansible worker``s."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Redis:
    """A redis-server without persistence on a free port, stopped by PID."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.access(binary, os.X_OK):
            if os.environ.get("CI"):
                pytest.fail("redis-server not found")
            pytest.skip("redis-server not found")
        self.port = free_port()
        directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        """Its ``redis://`` URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Stop it by PID."""
        self.process.terminate()
        self.process.wait(timeout=10)


def start_worker(name: str, env: dict[str, str], log_path: Path, via_dcsim: bool = True) -> subprocess.Popen[bytes]:
    """``dcsim ansible worker --name <name>`` (or ``dcsim-ansible worker``) with ``env``'s ``DCSIM_*`` settings."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")} | env
    if via_dcsim:
        command = [sys.executable, "-c", "from dcsim.cli import main; main()", "ansible", "worker", "--name", name]
    else:
        command = [sys.executable, "-c", "from dcsim_ansible.cli import main; main()", "worker", "--name", name]
    with log_path.open("ab") as log:
        return subprocess.Popen(command, env=child_env, stdout=log, stderr=subprocess.STDOUT)


class Api:
    """A small JSON client of a running server, with its admin token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send one request; return the status and the decoded JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def wait_run(self, run_id: str, until: tuple[str, ...] = (), timeout: float = 120) -> dict[str, Any]:
        """Poll a run until it is over (or in one of ``until``)."""
        final = until or ("successful", "failed", "canceled", "timeout")
        deadline = time.monotonic() + timeout
        while True:
            status, run = self.call("GET", f"/ansible/runs/{run_id}")
            assert status == 200, run
            if run["status"] in final:
                return dict(run)
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} still {run['status']} after {timeout} s")
            time.sleep(0.3)
