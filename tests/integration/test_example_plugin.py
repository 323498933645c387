"""Acceptance: the example third-party plugin installs with pip, is listed and serves its route."""

from __future__ import annotations

from collections.abc import Callable

from support import REPO, Server, Venv


def test_hello_is_listed_and_serves_its_route(make_venv: Callable[..., Venv], serve: Callable[..., Server]) -> None:
    venv = make_venv("hello", REPO / "dcsim-core", REPO / "docs" / "examples" / "dcsim-hello")
    server = serve(venv)
    token = server.admin_token

    plugins = server.get("/plugins", token=token)
    assert plugins.status_code == 200, plugins.text
    hello = {p["name"]: p for p in plugins.json()["plugins"]}["hello"]
    assert hello["status"] == "loaded", hello
    assert hello["distribution"] == "dcsim-hello"
    assert "dcsim_register_routes" in hello["hooks"]

    response = server.get("/hello", token=token)
    assert response.status_code == 200, response.text
    assert response.json() == {"hello": "world", "plugin": "dcsim-hello"}
    assert server.get("/hello").status_code == 401
    assert "/hello" in server.get("/schema/openapi.json").json()["paths"]
