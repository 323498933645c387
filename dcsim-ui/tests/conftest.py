"""Fixtures shared by the packaging tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dcsim-ui wheel built from this source tree as a user builds it (the build hook
    runs npm when the machine has it); built once per session, it takes minutes."""
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "uv", "build", "--wheel", "--out-dir", str(out), str(PACKAGE)]
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("dcsim_ui-*.whl")
    return wheel
