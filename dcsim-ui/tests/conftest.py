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
    """The dcsim-ui wheel built from this source tree as a user builds it; built once per
    session. In the ui tox env this is where the app is built (``npm run build`` through the
    build hook, which finds the env's ``web/node_modules`` current and runs no second
    ``npm ci``); the app left in ``src/dcsim_ui/static/`` then serves the e2e tests. When
    that app is already newer than its sources, the hook ships it as it is."""
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "uv", "build", "--wheel", "--out-dir", str(out), str(PACKAGE)]
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("dcsim_ui-*.whl")
    return wheel
