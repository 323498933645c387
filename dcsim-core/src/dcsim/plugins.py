"""Loading plugins from the ``dcsim`` entry-point group, and calling their hooks safely.

A plugin that fails to import, breaks the hook contract (an ``async def`` implementation
of a sync hook, or the reverse) or raises in a registration hook is recorded with its
error, unregistered and skipped, so the server still starts; in strict mode the first
failure is fatal. Plugins named in ``disable_plugins`` are listed as disabled and never
imported. Every hook is called through pluggy (so ``wrapper=True`` implementations run):

- registration hooks through :meth:`PluginHost.register_each`, one implementation at a time;
- async hooks through :meth:`PluginHost.awaitables`, which returns what the caller awaits;
- first-result hooks through :meth:`PluginHost.first_result`, which validates the answer;
- other hooks through :meth:`PluginHost.notify`.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import traceback
from collections.abc import Awaitable, Callable, Collection, Iterable
from types import ModuleType
from typing import Any, Protocol, TypeVar, runtime_checkable

import attrs
import pluggy
import structlog

from dcsim import hookspecs
from dcsim.builtin import CORE_DISTRIBUTION, CORE_PLUGINS
from dcsim.errors import PluginContractError, PluginLoadError
from dcsim.hooks import PROJECT
from dcsim.model import PluginInfo
from dcsim.settings import Settings

ENTRY_POINT_GROUP = "dcsim"

#: The owner of an awaitable a wrapper added to an async hook's results.
WRAPPER = "(wrapper)"

log = structlog.get_logger(__name__)

T = TypeVar("T")


@runtime_checkable
class Rollback(Protocol):
    """A registry that can forget what a failed plugin added (see ``register_each``)."""

    def checkpoint(self) -> object:
        """An opaque marker of what the registry holds now."""

    def rollback(self, checkpoint: object) -> None:
        """Forget whatever was added since ``checkpoint``."""


@runtime_checkable
class Owned(Protocol):
    """A registry that remembers which plugin added each item (``owners``)."""

    owner: str | None


@attrs.frozen
class Pending:
    """What one implementation of an async hook returned, to be awaited by the caller."""

    plugin: str
    awaitable: Awaitable[Any]


class PluginHost:
    """The pluggy plugin manager of one instance, with what the loader saw.

    Args:
        strict: make every plugin failure (load, contract, registration) fatal.
    """

    def __init__(self, strict: bool = False) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        for module in hookspecs.MODULES:
            self.pm.add_hookspecs(module)
        self.infos: list[PluginInfo] = []
        self.strict = strict
        #: Called with a plugin's name when it fails after loading (see :meth:`fail`).
        self.on_failure: list[Callable[[str], None]] = []

    def register(self, plugin: object, name: str, distribution: str | None = None, version: str | None = None) -> bool:
        """Register ``plugin`` (a module or object with hook implementations) as ``name``.

        Returns whether it is loaded: an implementation whose async-ness differs from
        its hook's records the plugin as failed (raises :class:`PluginLoadError` in
        strict mode).
        """
        module = getattr(plugin, "__name__", type(plugin).__name__)
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            self._record(PluginInfo(name, "failed", module, distribution, version, (), _describe(exc)), exc)
            return False
        callers = self.pm.get_hookcallers(plugin) or []
        hooks = tuple(sorted(caller.name for caller in callers))
        error = _contract_error(plugin, callers)
        if error is not None:
            self.pm.unregister(plugin)
            self._record(PluginInfo(name, "failed", module, distribution, version, hooks, error))
            return False
        self.infos.append(PluginInfo(name, "loaded", module, distribution, version, hooks))
        return True

    def record_failure(
        self,
        name: str,
        module: str | None,
        distribution: str | None,
        version: str | None,
        error: str,
        cause: BaseException | None = None,
    ) -> None:
        """Remember a plugin that could not be loaded (raises :class:`PluginLoadError` in strict mode)."""
        self._record(PluginInfo(name, "failed", module, distribution, version, (), error), cause)

    def fail(self, name: str, error: str, cause: BaseException | None = None) -> None:
        """Mark the loaded plugin ``name`` failed with ``error`` and unregister it.

        None of its hooks is called afterwards, and the ``on_failure`` callbacks drop what
        it registered. Raises :class:`PluginLoadError` in strict mode.
        """
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        for index, info in enumerate(self.infos):
            if info.name == name:
                self.infos[index] = attrs.evolve(info, status="failed", error=error)
        for forget in self.on_failure:
            forget(name)
        log.error("plugin.failed", plugin=name, error=error)
        if self.strict:
            raise PluginLoadError(f"plugin {name!r} failed: {error}", plugin=name) from cause

    def _record(self, info: PluginInfo, cause: BaseException | None = None) -> None:
        self.infos.append(info)
        log.error("plugin.failed", plugin=info.name, error=info.error)
        if self.strict:
            raise PluginLoadError(f"plugin {info.name!r} failed to load: {info.error}", plugin=info.name) from cause

    def loaded(self) -> list[str]:
        """Names of the plugins that are registered."""
        return [info.name for info in self.infos if info.status == "loaded"]

    def failures(self) -> list[PluginInfo]:
        """Plugins that failed to load or register."""
        return [info for info in self.infos if info.status == "failed"]

    def is_active(self, name: str) -> bool:
        """Whether ``name`` is registered now (not failed since), or is a wrapper's label."""
        return name == WRAPPER or self.pm.get_plugin(name) is not None

    # Calling hooks ------------------------------------------------------------------

    def _caller(self, hook_name: str) -> pluggy.HookCaller:
        caller: pluggy.HookCaller = getattr(self.pm.hook, hook_name)
        return caller

    def register_each(self, hook_name: str, **kwargs: Any) -> None:
        """Call the registration hook ``hook_name`` one implementation at a time.

        An implementation that raises is recorded against its plugin, which is then
        failed and unregistered (none of its other hooks runs afterwards), and what it
        added to a registry argument that supports :class:`Rollback` is forgotten; the
        other implementations go on. Strict mode makes the failure fatal
        (:class:`PluginLoadError`). Wrappers of the hook wrap every call.
        """
        caller = self._caller(hook_name)
        impls = list(reversed(caller.get_hookimpls()))  # pluggy's call order
        wrappers = [impl.plugin for impl in impls if impl.wrapper or impl.hookwrapper]
        registries = [value for value in kwargs.values() if isinstance(value, Rollback)]
        owned = [value for value in kwargs.values() if isinstance(value, Owned)]
        for impl in impls:
            if impl.wrapper or impl.hookwrapper or self.pm.get_plugin(impl.plugin_name) is None:
                continue
            others = [
                plugin for plugin in self.pm.get_plugins() if plugin is not impl.plugin and plugin not in wrappers
            ]
            marks = [(registry, registry.checkpoint()) for registry in registries]
            for recorder in owned:
                recorder.owner = impl.plugin_name
            try:
                self.pm.subset_hook_caller(hook_name, remove_plugins=others)(**kwargs)
            except Exception as exc:
                for registry, mark in marks:
                    registry.rollback(mark)
                log.error("plugin.registration_failed", plugin=impl.plugin_name, hook=hook_name, exc_info=True)
                self.fail(impl.plugin_name, f"{hook_name}: {_describe(exc)}", exc)
            finally:
                for recorder in owned:
                    recorder.owner = None

    def awaitables(self, hook_name: str, *, plugins: Collection[str] | None = None, **kwargs: Any) -> list[Pending]:
        """Call the async hook ``hook_name`` through pluggy; return what each implementation
        returned, in call order, for the caller to await.

        pluggy does not await: each ``async def`` implementation returns a coroutine
        that wrappers see (and may wrap or extend) in the hook's result list. ``plugins``
        limits the call to those plugins (and the wrappers).
        """
        caller = self._caller(hook_name)
        impls = caller.get_hookimpls()
        if plugins is not None:
            keep = set(plugins)
            others = [
                impl.plugin for impl in impls if impl.plugin_name not in keep and not (impl.wrapper or impl.hookwrapper)
            ]
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
        owners = {_code(impl.function): impl.plugin_name for impl in impls if not (impl.wrapper or impl.hookwrapper)}
        results = caller(**kwargs)
        pending = []
        for result in results:
            if not inspect.isawaitable(result):
                for leftover in results:
                    _discard(leftover)
                raise PluginContractError(
                    f"{hook_name} is async: an implementation or wrapper returned {result!r}, not an awaitable",
                    hook=hook_name,
                    value=repr(result),
                )
            pending.append(Pending(owners.get(getattr(result, "cr_code", None), WRAPPER), result))
        return pending

    def first_result(self, hook_name: str, check: Callable[[Any], T], **kwargs: Any) -> T | None:
        """Call the first-result hook ``hook_name``; return its answer as ``check`` accepts it.

        ``check`` returns the value (narrowed to its type) or raises ``ValueError``
        saying what is allowed; then :class:`PluginContractError` names the plugin that
        answered, the hook and the value. None when no implementation answers.
        """
        value = self._caller(hook_name)(**kwargs)
        if value is None:
            return None
        try:
            return check(value)
        except (TypeError, ValueError) as exc:
            plugin = self._answered_by(hook_name, check, kwargs)
            error = PluginContractError(
                f"plugin {plugin!r} returned {value!r} from {hook_name}: {exc}",
                plugin=plugin,
                hook=hook_name,
                value=repr(value),
            )
            log.error("plugin.contract_broken", plugin=plugin, hook=hook_name, value=repr(value), error=str(exc))
            raise error from exc

    def _answered_by(self, hook_name: str, check: Callable[[Any], object], kwargs: dict[str, Any]) -> str:
        # Only on the error path: first-result hooks are queries, so asking again is safe.
        impls = list(reversed(self._caller(hook_name).get_hookimpls()))
        for impl in impls:
            if impl.wrapper or impl.hookwrapper:
                continue
            answer = impl.function(*(kwargs[name] for name in impl.argnames))
            if answer is not None:
                try:
                    check(answer)
                except (TypeError, ValueError):
                    return impl.plugin_name
                break
        # The implementation's answer was fine: a wrapper changed it.
        return ", ".join(impl.plugin_name for impl in impls if impl.wrapper or impl.hookwrapper) or "(unknown)"

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call the hook ``hook_name`` for its effect; every implementation runs, results ignored."""
        self._caller(hook_name)(**kwargs)


def _code(function: Callable[..., Any]) -> object:
    return getattr(function, "__code__", None)


def _discard(result: object) -> None:
    # An aborted call: close the coroutines nobody will await (no "never awaited" warning).
    close = getattr(result, "close", None)
    if inspect.iscoroutine(result) and close is not None:
        close()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _contract_error(plugin: object, callers: list[pluggy.HookCaller]) -> str | None:
    """Why ``plugin``'s implementations break the hook contract, or None.

    An ``async def`` hook needs ``async def`` implementations and a sync hook sync
    ones; pluggy would otherwise drop the coroutine of an async implementation of a
    sync hook unawaited, or hand a sync one's None to the awaiting caller.
    """
    for caller in callers:
        if caller.spec is None:
            continue  # an unknown hook: check_pending reports it
        spec_async = inspect.iscoroutinefunction(caller.spec.function)
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin or impl.wrapper or impl.hookwrapper:
                continue  # wrappers are generators, whatever the hook
            impl_async = inspect.iscoroutinefunction(impl.function) or inspect.isasyncgenfunction(impl.function)
            if spec_async != impl_async:
                wanted = "async def" if spec_async else "def (not async)"
                return f"{caller.name}: the hook is {'async' if spec_async else 'sync'}; implement it with {wanted}"
    return None


def core_first(entry_point: importlib.metadata.EntryPoint) -> tuple[int, int, str]:
    """Load order: core's own plugins first (in :data:`dcsim.builtin.CORE_PLUGINS` order),
    then every other plugin by name."""
    dist = entry_point.dist.name if entry_point.dist else ""
    if _normalise(dist) == CORE_DISTRIBUTION and entry_point.name in CORE_PLUGINS:
        return (0, CORE_PLUGINS.index(entry_point.name), entry_point.name)
    return (1, 0, entry_point.name)


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-")


def load_plugins(settings: Settings, extra: Iterable[object] = ()) -> PluginHost:
    """Build a :class:`PluginHost` from installed entry points and ``extra`` plugin objects.

    Core's plugins load first, then the other entry points in name order. ``extra``
    objects (modules or instances, handy for tests and library users) register after
    them under their ``__name__`` or class name. No registration hook runs here.
    """
    host = PluginHost(strict=settings.strict_plugins)
    disabled = set(settings.disable_plugins)
    entry_points = sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=core_first)
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
        except Exception as exc:
            log.error("plugin.import_failed", plugin=ep.name, traceback=traceback.format_exc())
            host.record_failure(ep.name, ep.value, dist, version, _describe(exc), exc)
            continue
        if host.register(plugin, ep.name, dist, version):
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
