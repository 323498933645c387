"""The ``/ucs/api/v1`` REST convenience API (filled in below)."""

from __future__ import annotations

from litestar import Controller


class UcsController(Controller):
    """``/ucs/api/v1``."""

    path = "/ucs/api/v1"
