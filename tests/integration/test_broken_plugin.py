"""Acceptance: a plugin whose import raises, or whose service registration raises, is
listed with its error and crashes no command; strict mode makes it fatal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support import FIXTURES, REPO, Server, Venv, free_port

# What the fixture plugin's module raises on import.
ERROR = "dcsim-broken fails on purpose"
# What the other fixture plugin raises in dcsim_register_services.
SERVICES_ERROR = "dcsim_register_services: RuntimeError: dcsim-broken services fail on purpose"


@pytest.fixture(scope="module")
def broken_venv(make_venv: Callable[..., Venv]) -> Venv:
    return make_venv("broken", REPO / "dcsim-core", FIXTURES / "dcsim-broken")


def test_server_still_serves_and_lists_the_error(broken_venv: Venv, serve: Callable[..., Server]) -> None:
    server = serve(broken_venv)
    assert server.get("/healthz").status_code == 200
    plugins = {p["name"]: p for p in server.get("/plugins", token=server.admin_token).json()["plugins"]}
    assert plugins["sim"]["status"] == "loaded"
    assert plugins["broken"]["status"] == "failed"
    assert ERROR in plugins["broken"]["error"]
    assert "ImportError" in plugins["broken"]["error"]
    assert plugins["badservices"]["status"] == "failed"
    assert plugins["badservices"]["error"].startswith(SERVICES_ERROR)
    checks = {check["name"]: check for check in server.get("/readyz").json()["checks"]}
    assert checks["plugin:badservices"]["ok"] is False
    assert server.get("/sim/vms", token=server.admin_token).status_code == 200


def test_a_raising_service_registration_crashes_neither_plugins_nor_version(broken_venv: Venv, tmp_path: Path) -> None:
    # dcsim plugins builds no instance, so the service hook is not called there.
    assert broken_venv.plugins(tmp_path)["badservices"]["status"] == "loaded"
    version = broken_venv.dcsim("version", data_dir=tmp_path)
    assert version.returncode == 0, version.stderr
    assert "dcsim-broken 0.1.0" in version.stdout
    assert "Traceback" not in version.stdout + version.stderr


def test_plugins_command_lists_the_error(broken_venv: Venv, tmp_path: Path) -> None:
    broken = broken_venv.plugins(tmp_path)["broken"]
    assert broken["status"] == "failed"
    assert ERROR in broken["error"]


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--strict"], {}), ([], {"DCSIM_STRICT_PLUGINS": "true"})],
    ids=["--strict", "DCSIM_STRICT_PLUGINS"],
)
def test_strict_mode_fails_startup_with_the_error(
    broken_venv: Venv, tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    port = str(free_port())
    result = broken_venv.dcsim(
        "serve", "--host", "127.0.0.1", "--port", port, *args, data_dir=tmp_path, timeout=60, **env
    )
    assert result.returncode != 0
    assert ERROR in result.stdout + result.stderr


def test_disabled_plugin_is_listed_as_disabled_and_not_imported(broken_venv: Venv, tmp_path: Path) -> None:
    broken = broken_venv.plugins(tmp_path, DCSIM_DISABLE_PLUGINS="broken")["broken"]
    assert broken["status"] == "disabled"
    assert not broken["error"]
    # Strict mode has nothing to fail on once the broken plugin is disabled.
    result = broken_venv.dcsim(
        "plugins", "--json", data_dir=tmp_path, DCSIM_STRICT_PLUGINS="true", DCSIM_DISABLE_PLUGINS="broken"
    )
    assert result.returncode == 0, result.stderr
