"""Packaging (issue #16, acceptance 5): building the wheel from this source tree builds
the app into it; without npm and without a build, the build stops and says what to do."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def _uv_build(source: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "uv", "build", "--wheel", "--out-dir", str(out), str(source)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)


def test_wheel_carries_the_built_app(built_wheel: Path) -> None:
    with zipfile.ZipFile(built_wheel) as archive:
        names = set(archive.namelist())
        index = archive.read("dcsim_ui/static/index.html").decode()
    assets = re.findall(r'(?:src|href)="/(assets/[^"]+)"', index)
    assert assets
    for asset in assets:
        assert f"dcsim_ui/static/{asset}" in names


def test_without_npm_and_without_a_build_the_build_says_what_to_do(tmp_path: Path) -> None:
    source = tmp_path / "dcsim-ui"
    shutil.copytree(
        PACKAGE, source, ignore=shutil.ignore_patterns("node_modules", "static", "__pycache__", ".venv", "*.egg-info")
    )
    # PATH without npm (and node): only the interpreter's directory and the system's basics.
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PATH"}
    env["PATH"] = f"{Path(sys.executable).parent}:{bare}"
    result = _uv_build(source, tmp_path / "out", env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "npm (Node.js 20.19 or newer) is not on PATH" in output, output[-3000:]
    assert "DCSIMUI_SKIP_WEB_BUILD=1" in output
