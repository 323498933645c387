"""Acceptance: the README's run command, run as written, serves dc-sim with embedded defaults."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import REPO, clean_env, free_port

# The command creates a venv and pip-installs core from PyPI's packages before serving.
INSTALL_AND_START_SECONDS = 300.0


def readme_run_command() -> str:
    """The one command in the first ``sh`` block under the README's "Run it" heading."""
    section = (REPO / "README.md").read_text().split("\n## Run it\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.+?)\n```", section, re.DOTALL)
    assert match, "README's 'Run it' section has no sh block"
    lines = [line for line in match.group(1).splitlines() if line.strip()]
    assert len(lines) == 1, f"README's run command should be one line, not {lines}"
    return lines[0]


def readme_packages() -> set[str]:
    """The package folders the run command installs (``./dcsim-core`` ...)."""
    return set(re.findall(r"(?<![\w.])\./([\w-]+)", readme_run_command()))


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A folder that looks like a fresh clone to the run command: the package folders it
    names (``./dcsim-core`` ...) and no .venv."""
    root = tmp_path / "clone"
    root.mkdir()
    packages = readme_packages()
    assert "dcsim-core" in packages, packages
    for name in sorted(packages):
        (root / name).symlink_to(REPO / name, target_is_directory=True)
    return root


@pytest.fixture
def running(clone: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    data_dir = tmp_path / "data"
    port = free_port()
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        # Its own session, so the shell and the server it starts stop together.
        process = subprocess.Popen(
            ["bash", "-c", readme_run_command()],
            cwd=clone,
            env=clean_env(DCSIM_DATA_DIR=str(data_dir), DCSIM_PORT=str(port), PIP_DISABLE_PIP_VERSION_CHECK="1"),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process, f"http://127.0.0.1:{port}", data_dir
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=15)
            print(f"--- README run command (exit {process.returncode}) ---\n{log_path.read_text()}")


def test_readme_run_command_serves_health_and_schema(running: tuple[subprocess.Popen[bytes], str, Path]) -> None:
    process, url, data_dir = running
    deadline = time.monotonic() + INSTALL_AND_START_SECONDS
    while True:
        assert process.poll() is None, "the README's run command exited before serving"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"no answer on {url}/healthz"
        time.sleep(0.5)

    assert httpx.get(f"{url}/schema", timeout=10).status_code == 200
    assert httpx.get(f"{url}/schema/openapi.json", timeout=10).json()["openapi"].startswith("3.")
    token = (data_dir / "admin-token").read_text().strip()
    plugins = httpx.get(f"{url}/plugins", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert plugins.status_code == 200
    listed = {p["name"]: p for p in plugins.json()["plugins"]}
    assert listed["sim"]["status"] == "loaded"
    # The whole product: a plugin of every package the command installed, and nothing else.
    assert {p["distribution"] for p in listed.values()} == readme_packages()
