"""Acceptance: dcsim-core installs and serves alone; installing a sibling is what switches it on."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from support import REPO, Server, Venv, run

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


_WS_CLIENT = """
import json, sys, urllib.request
from websockets.sync.client import connect

base, port, token = sys.argv[1], sys.argv[2], sys.argv[3]
with connect(f"ws://127.0.0.1:{port}/ws?types=drift.*&token={token}", open_timeout=10) as socket:
    request = urllib.request.Request(
        f"{base}/events",
        data=json.dumps({"type": "drift.detected", "data": {"note": "plain install"}}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()
    print(socket.recv(timeout=10))
"""


def test_ws_delivers_events_on_a_plain_core_install_and_logs_no_token(
    core_venv: Venv, serve: Callable[..., Server], tmp_path: Path
) -> None:
    # The client runs in the core venv: the WebSocket library came with dcsim-core.
    server = serve(core_venv, DCSIM_LOG_LEVEL="DEBUG")
    script = tmp_path / "ws_client.py"
    script.write_text(_WS_CLIENT)
    result = run([str(core_venv.python), str(script), server.url, str(server.port), server.admin_token], timeout=60)
    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout)
    assert event["type"] == "drift.detected" and event["data"] == {"note": "plain install"}
    output = server.output()
    assert "WebSocket /ws" in output
    assert server.admin_token not in output


def test_docs_page_assets_ship_in_the_wheel(core_venv: Venv, serve: Callable[..., Server]) -> None:
    server = serve(core_venv)
    page = server.get("/schema")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["'](/schema/static/[^"']+)["']""", page.text)
    assert len(assets) >= 3, page.text[:1000]
    for asset in assets:
        assert server.get(asset).status_code == 200, asset
    assert server.data_dir.stat().st_mode & 0o777 == 0o700
