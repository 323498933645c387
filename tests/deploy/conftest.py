"""Fixtures of the deployment-file tests: the tools scripts/deploy-tools.sh installs, and
the Helm chart rendered with ``helm template``.

``helm``
    Path of the pinned helm (``.venv-tools/bin/helm``, else one on PATH).
``docker_compose``
    Path of ``docker-compose`` (Debian's 1.29).
``render``
    ``render(*set_values)`` -> the manifests ``helm template`` writes for
    ``deploy/helm/dcsim`` with ``--set`` of each value, parsed with PyYAML.

A missing tool fails the test that needs it (scripts/deploy-tools.sh installs them).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CHART = DEPLOY / "helm" / "dcsim"
RELEASE = "lab"

Manifest = dict[str, Any]


def tool(name: str) -> str:
    """The pinned copy in .venv-tools/bin, else the one on PATH; fails when there is none."""
    pinned = REPO / ".venv-tools" / "bin" / name
    found = str(pinned) if pinned.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: run scripts/deploy-tools.sh")
    return found


def run(*command: str) -> subprocess.CompletedProcess[str]:
    """``command``'s result; AssertionError with its output when it exits non-zero."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def helm() -> str:
    return tool("helm")


@pytest.fixture(scope="session")
def docker_compose() -> str:
    return tool("docker-compose")


@pytest.fixture(scope="session")
def render(helm: str) -> Callable[..., list[Manifest]]:
    def rendered(*set_values: str) -> list[Manifest]:
        sets = [arg for value in set_values for arg in ("--set", value)]
        output = run(helm, "template", RELEASE, str(CHART), "--namespace", "dcsim", *sets).stdout
        return [doc for doc in yaml.safe_load_all(output) if doc]

    return rendered


def one(manifests: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    """The only manifest of ``kind`` (and ``name``)."""
    found = [m for m in manifests if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)]
    assert len(found) == 1, f"{len(found)} {kind} named {name}: {[m['metadata']['name'] for m in found]}"
    return found[0]
