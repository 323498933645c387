"""Installing without Node.js (issue #16, acceptance 5) and the README's one-command
install of the whole product: each into a fresh virtual environment whose PATH has no
node or npm, then served by ``dcsim serve`` from that environment.

uv installs (``python -m uv pip install``): the same resolution as pip, from uv's cache,
so that the test takes seconds rather than minutes.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcsim.testing import stop_process

PACKAGE = Path(__file__).resolve().parents[1]
REPO = PACKAGE.parent
README = REPO / "README.md"


def _run(command: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=900, check=False)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _without_node(tmp_path: Path, venv: Path) -> dict[str, str]:
    """The environment with PATH holding only the venv's scripts and an empty directory:
    no node, no npm. dc-sim's own settings are dropped too."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PATH" and not k.startswith(("DCSIM_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}:{empty}"
    return env


def _fresh_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "uv", "venv", "--python", sys.executable, str(venv)], dict(os.environ))
    return venv


def _uv_install(venv: Path, env: dict[str, str], *targets: str, cwd: Path | None = None) -> None:
    _run([sys.executable, "-m", "uv", "pip", "install", "--python", str(venv / "bin" / "python"), *targets], env, cwd)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    """``serve(venv, env)``: ``dcsim serve`` of that venv on a free port until the test ends."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(venv: Path, env: dict[str, str]) -> str:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        data_dir = tmp_path / f"data-{port}"
        log = (tmp_path / f"serve-{port}.log").open("wb")
        process = subprocess.Popen(
            [str(venv / "bin" / "dcsim"), "serve", "--port", str(port)],
            env=env | {"DCSIM_DATA_DIR": str(data_dir), "DCSIM_LOG_LEVEL": "WARNING"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return url
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / f"serve-{port}.log").read_text())
            time.sleep(0.3)

    yield start
    for process in processes:
        stop_process(process)


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.headers.get("content-type", ""), answer.read()


def _check_app_served(url: str, assets_from: dict[str, bytes] | None = None) -> None:
    status, content_type, page = _get(url + "/")
    assert status == 200 and content_type.startswith("text/html")
    assert b'<div id="root">' in page
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+\.js)"', page.decode())
    assert assets
    status, content_type, body = _get(url + assets[0])
    assert status == 200 and "javascript" in content_type
    if assets_from is not None:
        assert body == assets_from[assets[0].lstrip("/")]


def test_the_wheel_serves_the_app_from_a_fresh_venv_without_node(tmp_path: Path, serve, built_wheel: Path) -> None:
    wheel = built_wheel
    with zipfile.ZipFile(wheel) as archive:
        files = {
            n.removeprefix("dcsim_ui/static/"): archive.read(n) for n in archive.namelist() if "/static/assets/" in n
        }
    venv = _fresh_venv(tmp_path)
    env = _without_node(tmp_path, venv)
    _uv_install(venv, env, str(REPO / "dcsim-core"), str(wheel))
    where = _run([str(venv / "bin" / "python"), "-c", "import dcsim_ui; print(dcsim_ui.__file__)"], env, cwd=tmp_path)
    assert where.startswith(str(venv)), where
    _check_app_served(serve(venv, env), files)


def _readme_install_command() -> list[str]:
    """The pip install of the README's run command, as its arguments."""
    line = next(line for line in README.read_text().splitlines() if line.startswith("python3 -m venv .venv && "))
    steps = [shlex.split(step) for step in line.split("&&")]
    (install,) = [step for step in steps if step[:2] == [".venv/bin/pip", "install"]]
    assert [".venv/bin/dcsim", "serve"] in steps
    return install[2:]


def test_the_readme_command_installs_the_whole_product(tmp_path: Path, serve, built_wheel: Path) -> None:
    # built_wheel: the app is built in the source tree (the uv install below has no npm).
    targets = _readme_install_command()
    packages = sorted(f"./{p.parent.name}" for p in REPO.glob("dcsim-*/pyproject.toml"))
    assert sorted(targets) == packages, "the README's run command installs every package of the repository"
    assert (PACKAGE / "src" / "dcsim_ui" / "static" / "index.html").is_file()
    venv = _fresh_venv(tmp_path)
    # Without npm the UI ships the app built before (the build hook says so).
    env = _without_node(tmp_path, venv)
    _uv_install(venv, env, *targets, cwd=REPO)
    listing = json.loads(
        _run([str(venv / "bin" / "dcsim"), "plugins", "--json"], env | {"DCSIM_DATA_DIR": str(tmp_path / "p")})
    )
    loaded = {p["name"] for p in listing["plugins"] if p["status"] == "loaded"}
    assert {"sim", "cmdb", "itsm", "patch", "drift", "vmware", "openstack", "ucs", "ansible", "ui"} <= loaded, listing
    _check_app_served(serve(venv, env))
