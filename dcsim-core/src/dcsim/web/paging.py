"""Pages of list endpoints: ``?limit=&offset=`` in, ``{total, limit, offset, items}`` out.

Every list of dc-sim's own APIs pages the same way; plugins' lists should too. Typed
routes use :class:`dcsim.web.contracts.Page` and :func:`dcsim.web.contracts.page`; this
untyped ``page`` serves the routes not yet converted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dcsim.convert import to_json
from dcsim.errors import InvalidInput
from dcsim.web.contracts import MAX_PAGE


def check_page(limit: int, offset: int) -> None:
    """Refuse a page outside ``1 <= limit <= MAX_PAGE``, ``offset >= 0`` (a 400)."""
    if limit < 1 or limit > MAX_PAGE or offset < 0:
        raise InvalidInput(f"limit must be 1..{MAX_PAGE} and offset >= 0")


def page(items: Sequence[Any], limit: int, offset: int, render: Callable[[Any], Any] = to_json) -> dict[str, Any]:
    """The page of ``items`` (``render`` applied to the page's items only)."""
    check_page(limit, offset)
    return {
        "total": len(items),
        "limit": limit,
        "offset": offset,
        "items": render(list(items[offset : offset + limit])),
    }
