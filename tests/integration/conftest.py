"""Fixtures of the cross-package tests; the helpers behind them are in ``support.py``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import Server, Venv, run, uv_bin


@pytest.fixture(scope="session")
def make_venv(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Venv]:
    """Make a fresh venv (on this Python) named ``name`` holding the packages at ``sources``."""

    def make(name: str, *sources: Path) -> Venv:
        path = tmp_path_factory.mktemp(name) / "venv"
        result = run([uv_bin(), "venv", "--quiet", "--python", sys.executable, str(path)])
        assert result.returncode == 0, result.stderr
        venv = Venv(path)
        if sources:
            venv.install(*sources)
        return venv

    return make


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start ``dcsim serve`` from a venv and wait until it is healthy; stopped at teardown.

    ``serve(venv, *args, data_dir=None, **env)``: extra ``args`` go to ``dcsim serve``,
    ``env`` adds environment variables; the data directory defaults to a fresh one.
    """
    servers: list[Server] = []

    def start(venv: Venv, *args: str, data_dir: Path | None = None, **env: str) -> Server:
        index = len(servers)
        data_dir = data_dir or tmp_path / f"data-{index}"
        server = Server(venv, data_dir, args, env, tmp_path / f"server-{index}.log")
        servers.append(server)
        server.wait_healthy()
        return server

    yield start
    for server in servers:
        server.stop()
        # Printed at teardown: pytest shows it only when the test failed.
        print(f"--- dcsim serve on port {server.port} (exit {server.process.returncode}) ---\n{server.output()}")
