"""``dcsim vmware install-vcsim`` builds the simulator; without Go or a binary, the
errors say exactly what is missing and how to get it; ``auto`` without a binary runs
with no vCenter and says why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dcsim.errors import ConfigError
from dcsim_vmware.settings import load_vmware_settings
from dcsim_vmware.sidecar import find_binary

DCSIM = [sys.executable, "-c", "from dcsim.cli import main; main()"]


def test_install_vcsim_builds_a_simulator_that_serves(tmp_path: Path) -> None:
    result = subprocess.run([*DCSIM, "vmware", "install-vcsim", "--dest", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    binary = Path(result.stdout.strip())
    assert binary == tmp_path / "dcsim-vcsim" and os.access(binary, os.X_OK)
    assert "not on PATH" in result.stderr
    from dcsim_vmware.certificate import ensure_certificate

    cert, key = ensure_certificate(tmp_path / "tls")
    process = subprocess.Popen([str(binary), f"-tlscert={cert}", f"-tlskey={key}"], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        urls = json.loads(process.stdout.readline())
        assert urls["https"].startswith("https://127.0.0.1:") and urls["http"].startswith("http://127.0.0.1:")
    finally:
        process.terminate()
        process.wait(10)


def test_without_go_the_error_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    result = subprocess.run([*DCSIM, "vmware", "install-vcsim", "--dest", str(tmp_path)],
                            capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert result.returncode == 1
    assert "Go is not installed" in result.stderr and "https://go.dev/dl/" in result.stderr


def test_without_a_binary_managed_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigError) as error:
        find_binary(load_vmware_settings({"vcenter": "managed"}))
    assert "no dcsim-vcsim found" in error.value.detail and "Go (>= 1.24) is not installed" in error.value.detail


def test_auto_without_a_binary_runs_with_no_vcenter(make_client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    client = make_client(plugins={"vmware": {"vcenter": "auto"}})
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert "no vCenter: no dcsim-vcsim found" in answer.text


def test_settings_are_checked() -> None:
    for bad in ({"vcenter": "maybe"}, {"https_port": 70000}, {"colour": "red"}, {"restart_seconds": -1}):
        with pytest.raises(ConfigError):
            load_vmware_settings(bad)
    settings = load_vmware_settings({"vcenter": "https://vc.example/sdk", "http_port": "9000"})
    assert settings.url == "https://vc.example/sdk" and settings.http_port == 9000
    assert load_vmware_settings({}).url is None
