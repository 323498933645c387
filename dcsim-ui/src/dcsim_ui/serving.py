"""Serve the built single-page app: ``index.html`` at ``/`` and at the app's own client
routes (the SPA fallback), its hashed files under ``/assets``.

Every route here is public (the page holds no data; the app signs in with a token and
asks the API) and left out of the OpenAPI document. The fallback routes cover only
client routes that no API path serves, so they never shadow an API. ``/cmdb/cis``,
``/cmdb/cis/<id>`` and ``/itsm/...`` are API paths as well as client routes: they are
registered as navigation pages (:data:`NAVIGATION_PATTERNS`), which core answers with
the page only for a browser's page navigation (``Accept`` naming ``text/html``), and
API clients get the API (specs/016-ui.md, "Deep links").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

#: Where the build (``npm run build`` in ``web/``) puts the app, inside the package.
STATIC_DIR = Path(__file__).parent / "static"

#: Client routes served ``index.html`` on a reload or a deep link; none is an API path.
FALLBACK_PATHS = (
    "/",
    "/infrastructure/{view:path}",
    "/drift",
    "/patch",
    "/automation/{view:path}",
    "/observability",
)

#: Client routes that are API paths too: a browser navigating there gets the page
#: (dcsim.web.navigation); the app's own fetches, which ask for JSON, get the API.
NAVIGATION_PATTERNS = ("/cmdb/cis", "/cmdb/cis/*", "/itsm/*")

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dc-sim: UI not built</title></head>
<body><main><h1>The dc-sim UI is installed without its built files</h1>
<p>This dcsim-ui was installed from a source tree where the app was not built (Node.js
was missing, or the build was skipped). Install Node.js 20.19 or newer and reinstall
(<code>pip install ./dcsim-ui</code>), or build it in place:
<code>cd dcsim-ui/web &amp;&amp; npm ci &amp;&amp; npm run build</code>. A dcsim-ui wheel
from a release has the files inside and needs no Node.js.</p>
<p>The API itself works: see <a href="/schema">/schema</a>.</p></main></body></html>
"""


def index_html() -> bytes | None:
    """The built ``index.html``, or None when the app is not built."""
    try:
        return (STATIC_DIR / "index.html").read_bytes()
    except FileNotFoundError:
        return None


@get(
    list(FALLBACK_PATHS),
    opt={"public": True},
    include_in_schema=False,
    cache_control=CacheControlHeader(no_cache=True),
    sync_to_thread=False,
)
def app_page() -> Response[bytes]:
    """The app's page; a page saying how to build it when it is not built."""
    body = index_html()
    if body is None:
        return Response(NOT_BUILT.encode(), status_code=503, media_type="text/html")
    return Response(body, media_type="text/html")


def ui_routes() -> list[Any]:
    """The page at the app's client routes and, when built, its assets."""
    routes: list[Any] = [app_page]
    assets = STATIC_DIR / "assets"
    if assets.is_dir():
        routes.append(
            create_static_files_router(
                path="/assets",
                directories=[assets],
                name="ui-assets",
                opt={"public": True},
                # File names carry a content hash: a changed file is a new name.
                cache_control=CacheControlHeader(max_age=31536000, public=True),
            )
        )
    return routes
