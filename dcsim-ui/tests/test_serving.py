"""The app is served at ``/`` with its assets when dcsim-ui is installed, its client
routes fall back to the page, and no API path is shadowed (specs/016-ui.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dcsim_ui import serving

BUILD_HINT = "the app is not built: run `npm ci && npm run build` in dcsim-ui/web (tox -e ui does)"


@pytest.fixture
def client(make_client, built_wheel: Path):
    # built_wheel: building the wheel builds the app into the source tree when it is stale.
    assert (serving.STATIC_DIR / "index.html").is_file(), BUILD_HINT
    return make_client(role=None)


def test_app_is_served_at_root_with_its_assets(client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<div id="root">' in page.text
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), assets
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert answer.content == (serving.STATIC_DIR / asset.lstrip("/")).read_bytes()
    js = next(a for a in assets if a.endswith(".js"))
    assert "javascript" in client.get(js).headers["content-type"]


@pytest.mark.parametrize(
    "path",
    ["/infrastructure/vmware", "/infrastructure/ucs", "/drift", "/patch", "/automation/ansible", "/observability"],
)
def test_client_routes_fall_back_to_the_page(client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.content == (serving.STATIC_DIR / "index.html").read_bytes()


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("path", ["/cmdb/cis", "/cmdb/cis/some-ci-id", "/itsm/incidents", "/itsm/changes"])
def test_deep_links_to_api_paths_give_a_browser_the_page(client, path: str) -> None:
    page = client.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200
    assert page.content == (serving.STATIC_DIR / "index.html").read_bytes()
    assert page.headers["vary"] == "Accept"


def test_api_paths_are_not_shadowed(client) -> None:
    # A client route that is also an API path answers API clients as the API: a token is needed.
    for accept in ("application/json", "*/*"):
        assert client.get("/cmdb/cis", headers={"Accept": accept}).status_code == 401
        assert client.get("/itsm/incidents", headers={"Accept": accept}).status_code == 401
    assert client.get("/cmdb/cis").status_code == 401
    viewer = client.auth_headers("viewer")
    listing = client.get("/cmdb/cis", headers=viewer)
    assert listing.status_code == 200
    assert listing.headers["content-type"].startswith("application/json")
    assert client.get("/drift/events", headers=viewer).headers["content-type"].startswith("application/json")
    # An unknown asset is a 404, not the page.
    assert client.get("/assets/no-such-file.js").status_code == 404


def test_the_page_stays_out_of_the_openapi_document(client) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith(("/assets", "/infrastructure", "/observability"))]


def test_an_unbuilt_install_says_how_to_build(make_client, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(serving, "STATIC_DIR", tmp_path / "static")
    client = make_client(role=None)
    answer = client.get("/")
    assert answer.status_code == 503
    assert "npm ci &amp;&amp; npm run build" in answer.text
    assert client.get("/assets/index.js").status_code == 404
    # No page to give: a browser's deep link gets the API's answer.
    assert client.get("/cmdb/cis", headers={"Accept": BROWSER_ACCEPT}).status_code == 401
