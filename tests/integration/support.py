"""Helpers for cross-package tests: fresh venvs holding chosen packages, and dc-sim servers.

The packages are installed the way users install them (from their source folders, not
editable) into venvs made for the test session, so the tests see what a wheel really
ships: entry points, console scripts and package data. A server runs as a subprocess of
its venv's ``dcsim serve`` on a free loopback port; its output is printed at teardown,
which pytest shows only when the test failed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

STARTUP_SECONDS = 30.0
COMMAND_SECONDS = 300.0


def uv_bin() -> str:
    """The uv executable of the environment running the tests."""
    from uv import find_uv_bin

    return str(find_uv_bin())


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without dc-sim settings or venv activation, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DCSIM_") and key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    }
    env.update(extra)
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = COMMAND_SECONDS, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` and return what it printed; never raises on a non-zero exit."""
    return subprocess.run(
        args, capture_output=True, text=True, env=env or clean_env(), timeout=timeout, check=False, **kwargs
    )


def _distribution_name(source: Path) -> str:
    match = re.search(r'^name\s*=\s*"([^"]+)"', (source / "pyproject.toml").read_text(), re.MULTILINE)
    assert match, f"no project name in {source}/pyproject.toml"
    return match.group(1)


class Venv:
    """A virtual environment made for the tests, with helpers to install and run dc-sim."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def script(self, name: str) -> Path:
        return self.path / "bin" / name

    def install(self, *sources: Path) -> None:
        """Install packages from source folders (not editable), rebuilding them from source."""
        args = [uv_bin(), "pip", "install", "--python", str(self.python)]
        for source in sources:
            # uv may reuse a wheel it built earlier from the same folder; local sources
            # change between runs, so always rebuild them.
            args += ["--reinstall-package", _distribution_name(source)]
        result = run([*args, *map(str, sources)])
        assert result.returncode == 0, f"install of {[s.name for s in sources]} failed:\n{result.stderr}"

    def uninstall(self, *distributions: str) -> None:
        result = run([uv_bin(), "pip", "uninstall", "--python", str(self.python), *distributions])
        assert result.returncode == 0, result.stderr

    def dcsim(self, *args: str, data_dir: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        """Run this venv's ``dcsim`` with ``data_dir`` as its data directory."""
        return run(
            [str(self.script("dcsim")), *args], env=clean_env(DCSIM_DATA_DIR=str(data_dir), **env), timeout=timeout
        )

    def plugins(self, data_dir: Path, **env: str) -> dict[str, dict[str, Any]]:
        """``dcsim plugins --json``, keyed by plugin name."""
        result = self.dcsim("plugins", "--json", data_dir=data_dir, **env)
        assert result.returncode == 0, result.stdout + result.stderr
        return {plugin["name"]: plugin for plugin in json.loads(result.stdout)["plugins"]}


class Server:
    """``dcsim serve`` running as a subprocess on a free port of 127.0.0.1."""

    def __init__(self, venv: Venv, data_dir: Path, args: tuple[str, ...], env: dict[str, str], log_path: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log: IO[str] = log_path.open("w")
        self.process = subprocess.Popen(
            [str(venv.script("dcsim")), "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=clean_env(DCSIM_DATA_DIR=str(data_dir), **env),
        )

    def wait_healthy(self, timeout: float = STARTUP_SECONDS) -> None:
        """Poll ``/healthz`` until it answers 200; fail if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"dcsim serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"dcsim serve did not answer /healthz within {timeout:.0f} s:\n{self.output()}")

    @property
    def admin_token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=10)

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def stop(self) -> None:
        # Not dcsim.testing.stop_process: this env tests the README's install, so dc-sim is
        # installed in the venvs the tests make, not in the one running them.
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()
