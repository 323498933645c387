"""Neutron's list query parameters: filters on any attribute, ``fields``, sorting and paging.

A query parameter named after an attribute filters on it (several values of one name:
any of them); ``fixed_ips=ip_address=...`` / ``subnet_id=...`` filter ports by address;
list attributes (``tags``, ``security_groups``) match when they hold the value. A name
that is no attribute is a 400, as Neutron's filter validation answers. ``fields`` keeps
only the attributes named; ``sort_key``/``sort_dir`` order; ``limit``/``marker`` page,
with a ``<collection>_links`` next link when a page is full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from dcsim_openstack.errors import OpenStackError

#: Query parameters that are not filters.
CONTROL = frozenset({"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse", "verbose"})
#: Tag filters (no object here has tags, so ``tags``/``tags-any`` match none, ``not-tags*`` all).
TAG_FILTERS = frozenset({"tags", "tags-any", "not-tags", "not-tags-any"})


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _matches(item: Mapping[str, Any], key: str, wanted: Sequence[str]) -> bool:
    if key in TAG_FILTERS:
        return key.startswith("not-")
    if key == "fixed_ips":
        for want in wanted:
            field, _, value = want.partition("=")
            if any(_text(ip.get(field)) == value for ip in item["fixed_ips"]):
                return True
        return False
    value = item[key]
    if isinstance(value, list):
        return any(_text(v) in wanted for v in value)
    if isinstance(value, bool):
        return _text(value) in {w.lower() for w in wanted}
    return _text(value) in wanted


def apply(items: list[dict[str, Any]], query: Mapping[str, list[str]], *, collection: str, url: str) -> dict[str, Any]:
    """The list body ``{collection: [...]}`` of ``items`` under ``query`` (a multi-dict of lists)."""
    known = set(items[0]) if items else set()
    for key in query:
        if key in CONTROL or key in TAG_FILTERS:
            continue
        if items and key not in known:
            raise OpenStackError(400, f"[{key}] is invalid attribute for filtering", title="HTTPBadRequest")
    filters = {k: v for k, v in query.items() if k not in CONTROL}
    selected = [item for item in items if all(_matches(item, k, v) for k, v in filters.items())]
    sort_keys = query.get("sort_key", [])
    for index in reversed(range(len(sort_keys))):
        key = sort_keys[index]
        directions = query.get("sort_dir", [])
        reverse = (directions[index] if index < len(directions) else "asc") == "desc"
        selected.sort(key=lambda item, k=key: _text(item.get(k)), reverse=reverse)  # type: ignore[misc]
    body: dict[str, Any] = {}
    marker = next(iter(query.get("marker", [])), None)
    if marker is not None:
        ids = [item["id"] for item in selected]
        selected = selected[ids.index(marker) + 1 :] if marker in ids else []
    limit_text = next(iter(query.get("limit", [])), None)
    if limit_text is not None:
        if not limit_text.isdigit():
            raise OpenStackError(400, f"Invalid input for limit: {limit_text!r} is not an integer.")
        limit = int(limit_text)
        if limit and len(selected) > limit:
            selected = selected[:limit]
            params = [(k, v) for k, vs in query.items() if k != "marker" for v in vs]
            params.append(("marker", selected[-1]["id"]))
            body[f"{collection}_links"] = [{"rel": "next", "href": f"{url}?{urlencode(params)}"}]
    fields = query.get("fields")
    if fields:
        selected = [{k: item[k] for k in fields if k in item} for item in selected]
    body[collection] = selected
    return body


def one(item: dict[str, Any], query: Mapping[str, list[str]]) -> dict[str, Any]:
    """One object under ``fields``."""
    fields = query.get("fields")
    return {k: item[k] for k in fields if k in item} if fields else item


__all__ = ["apply", "one"]
