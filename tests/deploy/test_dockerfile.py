"""deploy/Dockerfile cannot be built here (no image registry is reachable: its FROM images
cannot be pulled), so these tests check what can be checked without building: it builds
a wheel of every package of the checkout, its user and port are the chart's, and the
BuildKit ignore file keeps local environments out of the context."""

from __future__ import annotations

import re

import yaml
from conftest import CHART, DEPLOY, REPO

DOCKERFILE = (DEPLOY / "Dockerfile").read_text()


def test_every_package_of_the_checkout_becomes_a_wheel() -> None:
    packages = {path.parent.name for path in REPO.glob("dcsim-*/pyproject.toml")}
    copied = set(re.findall(r"^COPY (dcsim-[a-z]+)/ ", DOCKERFILE, re.MULTILINE))
    (built,) = re.findall(r"for package in ([^;]+);", DOCKERFILE)
    assert packages == copied == set(built.split())
    assert "pip install --no-cache-dir /wheels/*.whl" in DOCKERFILE


def test_user_and_port_match_the_chart() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert f"--uid {values['podSecurityContext']['runAsUser']} " in DOCKERFILE
    assert f"USER {values['podSecurityContext']['runAsUser']}:" in DOCKERFILE
    assert f"EXPOSE {values['app']['port']}" in DOCKERFILE
    assert re.search(r'^ENTRYPOINT \["dcsim"\]$', DOCKERFILE, re.MULTILINE)


def test_ignore_file_keeps_local_environments_out() -> None:
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    for pattern in ("**/node_modules", "**/.venv", ".venv-tools", ".git"):
        assert pattern in ignored
