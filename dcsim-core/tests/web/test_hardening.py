"""Hardening of the host app (SPEC-002): HEAD on every GET, the Host allow-list, the
WebSocket Origin check, the offline docs page."""

from __future__ import annotations

import re

import pytest
from litestar.exceptions import WebSocketDisconnect

from dcsim.web.hosts import host_allowed, host_name

PROBLEM = "application/problem+json"


def _get_paths(client):
    """Every GET route of the app, path parameters filled with a placeholder."""
    paths = set()
    for route in client.app.routes:
        methods = getattr(route, "methods", set())
        if "GET" in methods:
            paths.add(re.sub(r"\{[^}]+\}", "x", route.path))
    return sorted(paths)


def test_head_answers_on_every_get_route_like_get_without_a_body(dcsim_client):
    paths = _get_paths(dcsim_client)
    assert "/healthz" in paths and "/plugins" in paths and len(paths) > 10
    for path in paths:
        got = dcsim_client.get(path)
        head = dcsim_client.head(path)
        assert head.status_code == got.status_code, (path, head.status_code, got.status_code)
        assert head.status_code != 405, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path


def test_head_keeps_the_content_length_and_post_only_routes_still_refuse_it(dcsim_client):
    got = dcsim_client.get("/healthz")
    head = dcsim_client.head("/healthz")
    assert head.headers["content-length"] == str(len(got.content))
    # /tokens has GET; /events/{id}... has none: a path with only POST answers 405 to HEAD too.
    assert dcsim_client.head("/no/such/route").status_code == 404


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1", "127.0.0.1:1234", "[::1]", "[::1]:80"])
def test_loopback_names_are_served_by_default(dcsim_client, host):
    assert dcsim_client.get("/healthz", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil"])
def test_a_foreign_host_is_refused_with_a_problem(dcsim_client, host):
    response = dcsim_client.get("/healthz", headers={"Host": host})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == "invalid_host"
    # Before any route: an authenticated call is refused the same way.
    assert dcsim_client.get("/plugins", headers={"Host": host}).status_code == 400


def test_allowed_hosts_are_configurable(make_client):
    client = make_client(allowed_hosts=("dcsim.example.org", "*.lab.example"))
    assert client.get("/healthz", headers={"Host": "dcsim.example.org:8443"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "a.b.lab.example"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "lab.example.evil"}).status_code == 400
    assert client.get("/healthz", headers={"Host": "localhost"}).status_code == 400


def test_a_server_bound_beyond_loopback_serves_any_host_unless_configured(make_client):
    client = make_client(host="0.0.0.0")
    assert client.get("/healthz", headers={"Host": "anything.example"}).status_code == 200


def test_host_names_are_parsed_without_their_port():
    assert host_name("LocalHost:80") == "localhost"
    assert host_name("[::1]:8000") == "[::1]"
    assert host_name("example.org") == "example.org"
    assert not host_allowed(None, ("localhost",))
    assert host_allowed(None, ("*",))


def test_a_websocket_from_a_foreign_origin_is_refused(dcsim_client):
    secret = dcsim_client.token("viewer")
    headers = {"Origin": "http://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect),
        dcsim_client.websocket_connect(f"/ws?token={secret}", headers=headers) as ws,
    ):
        ws.receive_json(timeout=2)


def test_a_websocket_from_its_own_origin_or_a_configured_one_is_accepted(make_client):
    client = make_client(cors_origins=("https://console.example",))
    secret = client.token("viewer")
    for origin in ("http://127.0.0.1", "https://console.example"):
        with client.websocket_connect(f"/ws?token={secret}", headers={"Origin": origin}) as ws:
            ws.send_text("hello")  # the server reads and ignores it; the socket stays open
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect(f"/ws?token={secret}", headers={"Origin": "https://console.example.evil"}) as ws,
    ):
        ws.receive_json(timeout=2)


def test_the_docs_page_uses_only_local_assets_that_answer(make_client):
    client = make_client(role=None)
    for page_path in ("/schema", "/schema/swagger"):
        page = client.get(page_path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text)
        assert len(urls) >= 3, urls
        assert "://" not in page.text.split("<body>")[0], "the page's head names an outside URL"
        for url in urls:
            assert url.startswith("/schema/static/"), url
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 100, url
    assert client.get("/schema/static/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    # Only the page's own files are served from the assets folder.
    assert client.get("/schema/static/swagger-editor-bundle.js").status_code == 404
    assert client.get("/schema/static/..%2F__init__.py").status_code == 404
