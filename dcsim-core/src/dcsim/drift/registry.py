"""Drift sources and the registry ``dcsim_drift_register_sources`` fills."""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

import attrs

from dcsim.errors import ConfigError

if TYPE_CHECKING:
    from dcsim.drift.model import DriftEvent, Observation
    from dcsim.drift.service import DriftService
    from dcsim.model import Event

Observe = Callable[["DriftService", "Event"], Awaitable[list["Observation"]]]
Sweep = Callable[["DriftService"], Awaitable[list["Observation"]]]
Recheck = Callable[["DriftService", "DriftEvent"], Awaitable["Observation | None"]]


@attrs.frozen(kw_only=True)
class DriftSource:
    """A source of observations.

    ``observe(drift, event)`` runs for each bus event whose type matches one of
    ``event_types`` (globs); ``sweep(drift)`` observes everything it watches (``POST
    /drift/reconcile``); ``recheck(drift, drift_event)`` observes one open drift again
    (after its remediation run), None when the source cannot tell. ``fields`` are the
    globs of the fields it answers for (its rechecks).
    """

    name: str
    event_types: tuple[str, ...]
    observe: Observe
    fields: tuple[str, ...] = ("*",)
    sweep: Sweep | None = None
    recheck: Recheck | None = None

    def wants(self, event_type: str) -> bool:
        """Whether ``event_type`` matches one of the source's patterns."""
        return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in self.event_types)

    def answers_for(self, field: str) -> bool:
        """Whether the source watches ``field``."""
        return any(fnmatch.fnmatchcase(field, pattern) for pattern in self.fields)


class DriftSourceRegistry:
    """Drift sources by name; handed to ``dcsim_drift_register_sources``."""

    def __init__(self) -> None:
        self._sources: dict[str, DriftSource] = {}

    def add(
        self,
        name: str,
        event_types: tuple[str, ...] | list[str],
        observe: Observe,
        *,
        fields: tuple[str, ...] | list[str] = ("*",),
        sweep: Sweep | None = None,
        recheck: Recheck | None = None,
    ) -> None:
        """Register source ``name``; ConfigError when the name is taken."""
        if name in self._sources:
            raise ConfigError(f"drift source {name!r} is registered twice")
        self._sources[name] = DriftSource(
            name=name, event_types=tuple(event_types), observe=observe, fields=tuple(fields), sweep=sweep,
            recheck=recheck,
        )  # fmt: skip

    def __iter__(self) -> Iterator[DriftSource]:
        return iter(self._sources.values())

    def __len__(self) -> int:
        return len(self._sources)

    def names(self) -> list[str]:
        """The registered sources' names, in registration order."""
        return list(self._sources)
