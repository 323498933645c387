"""Hook implementations of the `ui` plugin, and nothing else.

This module is what the entry point ``ui`` in the group ``dcsim`` names. Installing
dcsim-ui serves the Glass Pane, a single-page app shipped inside the wheel, at ``/``
(specs/016-ui.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim import hookimpl

if TYPE_CHECKING:
    from dcsim.registry import RouteRegistry


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim_ui.serving import NAVIGATION_PATTERNS, index_html, ui_routes

    registry.add_all(ui_routes())
    # Declined (None) when the app is not built: the API answers as it would anyway.
    for pattern in NAVIGATION_PATTERNS:
        registry.add_navigation_page(pattern, index_html)
