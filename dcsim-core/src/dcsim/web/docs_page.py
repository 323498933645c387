"""The API docs page (Swagger UI) from assets shipped with the installed packages.

The page's script, styles and icon come from the ``swagger-ui-py`` distribution's
static folder, served under ``/schema/static/``: the page works on a machine with no
Internet access, and no third-party server learns who reads the docs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File

#: Where the assets are served.
ASSETS_PATH = "/schema/static"
#: The files the page uses, and their media types; nothing else of the folder is served.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def assets_dir() -> Path:
    """The folder holding Swagger UI's files (found without importing the package,
    whose adapters pull in web frameworks dc-sim does not use)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py distribution (a dependency of dcsim-core) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def docs_render_plugin() -> SwaggerRenderPlugin:
    """Swagger UI at ``/schema`` (and ``/schema/swagger``) loading only local assets."""
    return SwaggerRenderPlugin(
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
        path=["/", "/swagger"],
    )


def docs_assets_route() -> HTTPRouteHandler:
    """The route serving :data:`ASSETS` (open, like the schema; cached for a day)."""
    folder = assets_dir()

    @get(
        f"{ASSETS_PATH}/{{name:str}}",
        opt={"public": True},
        include_in_schema=False,
        sync_to_thread=False,
        cache=False,
    )
    def docs_asset(name: FromPath[str]) -> File:
        media_type = ASSETS.get(name)
        if media_type is None:
            raise NotFoundException(f"no docs asset {name!r}")
        return File(
            folder / name,
            media_type=media_type,
            content_disposition_type="inline",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return docs_asset
