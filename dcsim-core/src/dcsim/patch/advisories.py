"""Advisories: the bundled data file and the feeds plugins add.

The bundled file (``advisories.json`` next to this module) holds real CVEs against the
seed's package versions, so the seed estate starts non-compliant in realistic ways:
some advisories apply to one OS only, some are already fixed by what is installed, some
name packages the seed does not have. A plugin adds a feed with
``dcsim_patch_register_advisory_feeds``; a feed's advisory replaces a bundled one of the
same id.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

import attrs
import structlog

from dcsim.convert import from_json
from dcsim.patch.model import Advisory

log = structlog.get_logger(__name__)

#: A feed: called (without arguments) at start and by ``POST /patch/compliance/scan``;
#: returns advisories as :class:`Advisory` or as dicts of its fields.
Feed = Callable[[], "list[Advisory | dict[str, Any]]"]


def bundled() -> list[Advisory]:
    """The advisories of the data file shipped with core."""
    text = resources.files("dcsim.patch").joinpath("advisories.json").read_text(encoding="utf-8")
    return [from_json(item, Advisory) for item in json.loads(text)["advisories"]]


@attrs.define
class _Entry:
    name: str
    feed: Feed


class AdvisoryFeedRegistry:
    """What ``dcsim_patch_register_advisory_feeds`` receives: ``registry.add(name, feed)``."""

    def __init__(self) -> None:
        self._feeds: dict[str, _Entry] = {}

    def add(self, name: str, feed: Feed) -> None:
        """Add a feed named ``name``; ValueError when the name is taken."""
        if name in self._feeds or name == "bundled":
            raise ValueError(f"an advisory feed named {name!r} exists")
        self._feeds[name] = _Entry(name, feed)

    def names(self) -> list[str]:
        """The feeds' names, in registration order."""
        return list(self._feeds)

    def __iter__(self) -> Iterator[_Entry]:
        return iter(self._feeds.values())


def collect(registry: AdvisoryFeedRegistry) -> dict[str, Advisory]:
    """The bundled advisories overlaid with every feed's, by id."""
    found = {advisory.id: advisory for advisory in bundled()}
    for entry in registry:
        try:
            items = entry.feed()
        except Exception:
            # A feed that is down costs its advisories, not the scan.
            log.exception("patch.advisory_feed_failed", feed=entry.name)
            continue
        for item in items:
            advisory = item if isinstance(item, Advisory) else from_json(item, Advisory)
            found[advisory.id] = attrs.evolve(advisory, feed=entry.name)
    return found
