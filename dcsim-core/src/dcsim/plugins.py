"""Loading plugins from the ``dcsim`` entry-point group, one at a time.

A plugin that fails to import or register is recorded with its error and skipped, so
the server still starts; in strict mode the first failure is fatal. Plugins named in
``disable_plugins`` are listed as disabled and never imported.
"""

from __future__ import annotations

import importlib.metadata
import traceback
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import pluggy
import structlog

from dcsim import hookspecs
from dcsim.errors import PluginLoadError
from dcsim.hooks import PROJECT
from dcsim.model import PluginInfo
from dcsim.settings import Settings

ENTRY_POINT_GROUP = "dcsim"

log = structlog.get_logger(__name__)


class PluginHost:
    """The pluggy plugin manager of one instance, with what the loader saw."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        for module in hookspecs.MODULES:
            self.pm.add_hookspecs(module)
        self.infos: list[PluginInfo] = []

    @property
    def hook(self) -> Any:
        """The hook relay: ``host.hook.dcsim_<name>(...)``."""
        return self.pm.hook

    def register(self, plugin: object, name: str, distribution: str | None = None, version: str | None = None) -> None:
        """Register ``plugin`` (a module or object with hook implementations) as ``name``."""
        self.pm.register(plugin, name=name)
        self.infos.append(
            PluginInfo(
                name=name,
                status="loaded",
                module=getattr(plugin, "__name__", type(plugin).__name__),
                distribution=distribution,
                version=version,
                hooks=tuple(sorted(impl.name for impl in _hookcallers(self.pm, plugin))),
            )
        )

    def record_failure(
        self, name: str, module: str | None, distribution: str | None, version: str | None, error: str
    ) -> None:
        """Remember a plugin that could not be loaded."""
        self.infos.append(PluginInfo(name, "failed", module, distribution, version, (), error))

    def loaded(self) -> list[str]:
        """Names of the plugins that are registered."""
        return [info.name for info in self.infos if info.status == "loaded"]

    def failures(self) -> list[PluginInfo]:
        """Plugins that failed to load."""
        return [info for info in self.infos if info.status == "failed"]


def _hookcallers(pm: pluggy.PluginManager, plugin: object) -> list[Any]:
    return pm.get_hookcallers(plugin) or []


def load_plugins(settings: Settings, extra: Iterable[object] = ()) -> PluginHost:
    """Build a :class:`PluginHost` from installed entry points and ``extra`` plugin objects.

    Entry points load in name order. ``extra`` objects (modules or instances, handy for
    tests and library users) register after them under their ``__name__`` or class name.
    """
    host = PluginHost()
    disabled = set(settings.disable_plugins)
    entry_points = sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    seen: set[str] = set()
    for ep in entry_points:
        if ep.name in seen:
            # The same distribution visible twice on sys.path (an editable and a normal
            # install): pluggy refuses a second registration, so keep the first.
            continue
        seen.add(ep.name)
        dist = ep.dist.name if ep.dist else None
        version = ep.dist.version if ep.dist else None
        if ep.name in disabled:
            host.infos.append(PluginInfo(ep.name, "disabled", ep.value, dist, version))
            log.info("plugin.disabled", plugin=ep.name)
            continue
        try:
            plugin = ep.load()
            host.register(plugin, ep.name, dist, version)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            host.record_failure(ep.name, ep.value, dist, version, error)
            log.error("plugin.failed", plugin=ep.name, error=error, traceback=traceback.format_exc())
            if settings.strict_plugins:
                raise PluginLoadError(f"plugin {ep.name!r} failed to load: {error}", plugin=ep.name) from exc
            continue
        log.debug("plugin.loaded", plugin=ep.name, distribution=dist, version=version)
    for plugin in extra:
        name = plugin.__name__ if isinstance(plugin, ModuleType) else getattr(plugin, "name", type(plugin).__name__)
        host.register(plugin, str(name))
    try:
        host.pm.check_pending()
    except pluggy.PluginValidationError as exc:
        # A misspelt hook name would otherwise be silently ignored.
        if settings.strict_plugins:
            raise PluginLoadError(str(exc)) from exc
        log.error("plugin.unknown_hook", error=str(exc))
    return host
