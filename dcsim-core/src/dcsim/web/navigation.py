"""Pages for a browser's navigations to paths that are also API paths.

A single-page web app has client routes (``/cmdb/cis/42``) that a person reloads or
opens from a link, and some of them are API paths too. A browser's page navigation says
it wants HTML (``Accept: text/html,...``); API clients (the SDKs, ``curl``, the app's own
``fetch`` calls) ask for JSON, CSV or anything (``*/*``) and never name ``text/html``.
So a GET or HEAD that names ``text/html`` on a path a plugin registered with
``RouteRegistry.add_navigation_page`` gets that plugin's page; every other request is
routed as usual. Both answers carry ``Vary: Accept`` so that no cache hands one to the
other's client.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Receive, Scope, Send

Page = Callable[[], bytes | None]


def accepts_html(accept: str) -> bool:
    """True when an ``Accept`` header names ``text/html`` with a non-zero quality
    (``*/*`` and ``text/*`` do not count: every API client sends those)."""
    for member in accept.split(","):
        media, *params = (part.strip() for part in member.split(";"))
        if media.lower() != "text/html":
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            return True
    return False


class BrowserNavigation:
    """ASGI middleware answering page navigations to registered paths (module docstring)."""

    def __init__(self, app: ASGIApp, pages: Sequence[tuple[str, Page]]) -> None:
        self.app = app
        self.pages = list(pages)

    def _page_for(self, path: str) -> tuple[str, Page] | None:
        for pattern, page in self.pages:
            if fnmatch.fnmatchcase(path, pattern):
                return pattern, page
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] not in ("GET", "HEAD") or not self.pages:
            await self.app(scope, receive, send)
            return
        found = self._page_for(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        pattern, page = found
        accept = b", ".join(value for name, value in scope["headers"] if name == b"accept").decode("latin-1")
        body = page() if accepts_html(accept) else None
        if body is not None:
            scope["path_template"] = pattern
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"text/html; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        (b"cache-control", b"no-cache"),
                        (b"vary", b"Accept"),
                    ],
                }
            )
            sent: HTTPResponseBodyEvent = {
                "type": "http.response.body",
                "body": b"" if scope["method"] == "HEAD" else body,
                "more_body": False,
            }
            await send(sent)
            return

        async def vary_on_accept(message: Message) -> None:
            if message["type"] == "http.response.start":
                start: HTTPResponseStartEvent = {
                    **message,
                    "headers": [*message.get("headers", []), (b"vary", b"Accept")],
                }
                await send(start)
                return
            await send(message)

        await self.app(scope, receive, vary_on_accept)
