"""Browser navigations to paths a web app shares with an API (dcsim.web.navigation)."""

from __future__ import annotations

import pytest
from litestar import get

from dcsim import hookimpl
from dcsim.web.navigation import accepts_html

PAGE = b"<!doctype html><title>app</title>"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@get("/widgets/{name:str}", sync_to_thread=False)
def widget(name: str) -> dict[str, str]:
    return {"widget": name}


class WidgetApp:
    """An API route and a web app page registered for the same paths."""

    def __init__(self, page: bytes | None) -> None:
        self.page = page

    @hookimpl
    def dcsim_register_routes(self, registry):
        registry.add(widget)
        registry.add_navigation_page("/widgets/*", lambda: self.page)


def test_dcsim_register_routes_navigation_page_serves_browsers_only(make_client):
    client = make_client(WidgetApp(PAGE), role=None)
    page = client.get("/widgets/w1", headers={"Accept": BROWSER})
    assert page.status_code == 200
    assert page.content == PAGE
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["vary"] == "Accept"
    assert page.headers["cache-control"] == "no-cache"
    head = client.head("/widgets/w1", headers={"Accept": BROWSER})
    assert head.status_code == 200 and head.content == b""

    # API clients never get the page: the route answers (here: no token, 401).
    for accept in ("application/json", "*/*", "text/csv", "text/*", "text/html;q=0"):
        api = client.get("/widgets/w1", headers={"Accept": accept})
        assert api.status_code == 401, accept
        assert "Accept" in api.headers["vary"]
    admin = client.get("/widgets/w1", headers=client.auth_headers("admin"))
    assert admin.json() == {"widget": "w1"}
    # A POST is never a navigation.
    assert client.post("/widgets/w1", headers={"Accept": BROWSER}).status_code != 200
    # Paths outside the pattern are routed as usual.
    assert client.get("/healthz", headers={"Accept": BROWSER}).json() == {"status": "ok"}


def test_a_declining_page_leaves_the_request_to_the_routes(make_client):
    client = make_client(WidgetApp(None))
    answer = client.get("/widgets/w2", headers={"Accept": BROWSER})
    assert answer.json() == {"widget": "w2"}


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("TEXT/HTML", True),
        ("application/json, text/html;q=0.5", True),
        ("text/html;q=0.0", False),
        ("text/html;q=x", False),
        ("*/*", False),
        ("", False),
        ("application/json", False),
    ],
)
def test_accepts_html(accept, html):
    assert accepts_html(accept) is html
