"""Acceptance: dcsim-core installs and serves alone; installing a sibling is what switches it on."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from support import REPO, Server, Venv

# Core's internal plugins (SPEC-002), as a user sees them in `dcsim plugins`. This env
# does not import dcsim: it only drives fresh venvs.
CORE_PLUGINS = ("api", "patch", "drift", "itsm", "cmdb", "sim")


@pytest.fixture(scope="module")
def core_venv(make_venv: Callable[..., Venv]) -> Venv:
    return make_venv("core-alone", REPO / "dcsim-core")


def test_version_works_with_core_alone(core_venv: Venv, tmp_path: Path) -> None:
    result = core_venv.dcsim("version", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("dcsim-core 0.1.0"), result.stdout


def test_plugins_lists_the_builtins_and_no_sibling(core_venv: Venv, tmp_path: Path) -> None:
    plugins = core_venv.plugins(tmp_path)
    builtins = {name: plugin for name, plugin in plugins.items() if name in CORE_PLUGINS}
    assert set(builtins) == set(CORE_PLUGINS)
    assert {(p["status"], p["distribution"]) for p in builtins.values()} == {("loaded", "dcsim-core")}
    assert "ucs" not in plugins


def test_serve_answers_health_and_openapi_and_writes_the_admin_token(
    core_venv: Venv, serve: Callable[..., Server]
) -> None:
    server = serve(core_venv)
    assert server.get("/healthz").status_code == 200

    schema = server.get("/schema/openapi.json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "dc-sim"
    assert "/healthz" in document["paths"]
    assert server.get("/schema").status_code == 200

    token_file = server.data_dir / "admin-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert server.get("/plugins").status_code == 401
    plugins = server.get("/plugins", token=server.admin_token)
    assert plugins.status_code == 200
    assert {p["name"]: p["status"] for p in plugins.json()["plugins"]}["sim"] == "loaded"


@pytest.mark.parametrize("off", CORE_PLUGINS)
def test_serve_starts_with_each_internal_plugin_disabled(
    core_venv: Venv, serve: Callable[..., Server], off: str
) -> None:
    server = serve(core_venv, DCSIM_DISABLE_PLUGINS=off)
    plugins = {p["name"]: p["status"] for p in server.get("/plugins", token=server.admin_token).json()["plugins"]}
    assert plugins == {name: "disabled" if name == off else "loaded" for name in CORE_PLUGINS}
    ready = server.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert {"name": f"plugin:{off}", "ok": True, "detail": "disabled"} in ready.json()["checks"]
    vms = server.get("/sim/vms", token=server.admin_token)
    assert vms.status_code == (404 if off == "sim" else 200)


def test_installing_ucs_adds_its_apis_and_uninstalling_removes_them(
    core_venv: Venv, serve: Callable[..., Server], tmp_path: Path
) -> None:
    core_venv.install(REPO / "dcsim-ucs")
    try:
        ucs = core_venv.plugins(tmp_path)["ucs"]
        assert ucs["status"] == "loaded", ucs
        assert ucs["distribution"] == "dcsim-ucs"
        assert ucs["version"] == "0.1.0"
        server = serve(core_venv)
        paths = server.get("/schema/openapi.json").json()["paths"]
        assert "/nuova" in paths and "/ucs/api/v1/blades" in paths
        login = httpx.post(f"{server.url}/nuova", content='<aaaLogin inName="admin" inPassword="password"/>')
        assert login.status_code == 200 and "outCookie" in login.text and "errorCode" not in login.text
        blades = server.get("/ucs/api/v1/blades", token=server.admin_token)
        assert [b["name"] for b in blades.json()["items"]] == ["c01s01", "c01s02", "c01s03"]
        server.stop()
    finally:
        core_venv.uninstall("dcsim-ucs")
    plugins = core_venv.plugins(tmp_path)
    assert "ucs" not in plugins
    assert plugins["sim"]["status"] == "loaded"
    server = serve(core_venv)
    assert "/nuova" not in server.get("/schema/openapi.json").json()["paths"]
    assert httpx.post(f"{server.url}/nuova", content="<aaaLogin/>").status_code == 404
