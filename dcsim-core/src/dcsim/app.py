"""The dc-sim instance: settings, plugins, store, bus and services, usable in-process.

The host app and the CLI are thin skins over :class:`DcSim`; tool builders use it
directly through :func:`open`::

    import dcsim

    async with dcsim.open(data_dir="/tmp/dc") as sim:
        await sim.publish("hello.said", {"to": "world"}, source="/my-tool")
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import structlog
from prometheus_client import CollectorRegistry

from dcsim import tracing
from dcsim.bus.base import EventBus
from dcsim.bus.relay import OutboxRelay
from dcsim.bus.subscription import SubscriptionRunner
from dcsim.drivers import load_driver
from dcsim.errors import DcsimError, InvalidInput, ServiceUnavailable
from dcsim.files import private_dir, write_private
from dcsim.hookcalls import HookCalls
from dcsim.logs import library_logging
from dcsim.model import Check, Event, Role
from dcsim.plugins import WRAPPER, PluginHost, load_plugins
from dcsim.registry import (
    CmdbTypeRegistry,
    EventTypeRegistry,
    LoadProfileRegistry,
    ServiceRegistry,
    SubscriberRegistry,
)
from dcsim.settings import Settings, load_settings
from dcsim.store.base import Store
from dcsim.store.changes import ChangeFeed

if TYPE_CHECKING:
    from dcsim.sim.engine import Simulation

log = structlog.get_logger(__name__)

#: Each readiness check answers within this many seconds or is reported down.
READINESS_TIMEOUT_SECONDS = 2.0


#: The framework's own events, declared without any plugin.
FRAMEWORK_EVENT_TYPES: dict[str, tuple[str, dict[str, str]]] = {
    "dcsim.started": (
        "an instance finished starting",
        {"plugins": "names of the loaded plugins", "bus": "bus driver", "store": "store driver"},
    ),
}


class DcSim:
    """One dc-sim instance. Build it with :func:`open`; start it with ``async with``.

    Building it runs the registration hooks (each implementation alone: one that
    raises fails its plugin, see ``PluginHost.register_each``); services are reached by
    type, ``dcsim.services.get(Cmdb)``, and core's query hooks through ``dcsim.call``.
    """

    def __init__(self, settings: Settings, plugins: PluginHost) -> None:
        self.settings = settings
        self.plugins = plugins
        #: Typed, checked calls of core's query hooks (``dcsim.call.itsm_priority(...)``).
        self.call = HookCalls(plugins)
        self.services = ServiceRegistry()
        self.event_types = EventTypeRegistry()
        self.event_types.add_catalogue(FRAMEWORK_EVENT_TYPES)
        self.subscribers = SubscriberRegistry()
        self.load_profiles = LoadProfileRegistry()
        self.cmdb_types = CmdbTypeRegistry()
        #: Prometheus registry of this instance, served at ``/metrics``; plugins add collectors.
        self.metrics = CollectorRegistry()
        plugins.on_failure.append(self._forget)
        plugins.register_each("dcsim_register_services", registry=self.services, settings=settings)
        plugins.register_each("dcsim_register_event_types", registry=self.event_types)
        plugins.register_each("dcsim_register_subscribers", registry=self.subscribers)
        plugins.register_each("dcsim_sim_register_load_profiles", registry=self.load_profiles)
        plugins.register_each("dcsim_cmdb_register_types", registry=self.cmdb_types)
        self.store: Store = load_driver("dcsim.store", settings)
        self.bus: EventBus = load_driver("dcsim.bus", settings)
        #: Spans of requests, publishes and subscribers (``dcsim.tracing``); a no-op when off.
        self.tracing = tracing.setup(settings)
        #: Publishes the store's outbox on the bus (``dcsim.bus.relay``).
        self.relay = OutboxRelay(
            self.store,
            self.bus,
            settings,
            groups=lambda: [s.group for s in self.subscribers.values()],
            tracing=self.tracing,
        )
        #: Keeps in-memory indexes fresh with other processes' writes (``dcsim.store.changes``).
        self.changes = ChangeFeed(self.store)
        self._runners: list[SubscriptionRunner] = []
        self.started = False
        #: The admin token's secret when this start created it (first start only).
        self.new_admin_token: str | None = None

    @property
    def sim(self) -> Simulation:
        """The simulation engine (the ``sim`` plugin's service); :class:`ServiceUnavailable` when it is off."""
        from dcsim.sim.engine import Simulation

        return self.services.get(Simulation)

    async def start(self) -> None:
        """Migrate the store, connect the bus, create every consumer group, run the
        start-up hooks, then the subscriptions.

        Groups exist before any start-up hook runs, so events published while starting
        are delivered. A start that fails undoes itself: subscriptions stop, the plugins
        whose start-up ran (or was running) get ``dcsim_shutdown``, the bus and the
        store close; then the error propagates.
        """
        if self.started:
            return
        # Tokens, the store and node keys live here: the owner only (SPEC-002 hardening).
        private_dir(self.settings.data_dir)
        entered: list[str] = []
        bus_started = False
        try:
            await asyncio.to_thread(self.store.upgrade)
            # Before the start-up hooks load their indexes, so no other process's write is missed.
            await self.changes.start()
            await self.bus.start()
            bus_started = True
            if self.settings.create_admin_token:
                await asyncio.to_thread(self._ensure_admin_token)
            for subscriber in self.subscribers.values():
                await self.bus.ensure_group(subscriber.group)
            if self.settings.outbox_relay:
                # After the groups exist: events left in the outbox by a crash go out first.
                self.relay.start()
            pending = self.plugins.awaitables("dcsim_startup", dcsim=self)
            try:
                while pending:
                    item = pending.pop(0)
                    if not self.plugins.is_active(item.plugin):
                        # Failed by a registration hook an earlier start-up called.
                        _discard(item.awaitable)
                        continue
                    entered.append(item.plugin)
                    try:
                        await item.awaitable
                    except ServiceUnavailable as exc:
                        if item.plugin == WRAPPER:
                            raise
                        await self._without(item.plugin, exc)
                        entered.remove(item.plugin)
            finally:
                for item in pending:
                    _discard(item.awaitable)
            for subscriber in self.subscribers.values():
                runner = SubscriptionRunner(self.bus, subscriber, self, tracing=self.tracing)
                runner.start()
                self._runners.append(runner)
            self.started = True
            details = {"plugins": self.plugins.loaded(), "bus": self.bus.name, "store": self.store.name}
            log.info("dcsim.started", **details)
            await self.publish("dcsim.started", details, source="/dcsim")
        except BaseException:
            log.error("dcsim.start_failed", started_plugins=entered, exc_info=True)
            self.started = False
            await self._stop(entered, bus_started)
            raise

    def _forget(self, plugin: str) -> None:
        """Drop what a plugin that failed had registered: its services, event types,
        subscribers and load profiles (a failed plugin leaves nothing behind)."""
        for registry in (self.services, self.event_types, self.subscribers, self.load_profiles):
            registry.forget(plugin)

    async def _without(self, plugin: str, exc: ServiceUnavailable) -> None:
        """Go on without ``plugin``, whose start-up needs a service that is off (its plugin
        disabled or failed): waiting will not bring it, and the other plugins can work.

        The plugin gets its ``dcsim_shutdown`` (for a partial start) and is failed with
        the error; in strict mode that is fatal.
        """
        for item in self.plugins.awaitables("dcsim_shutdown", plugins=[plugin], dcsim=self):
            try:
                await item.awaitable
            except Exception:
                log.exception("plugin.shutdown_failed", plugin=item.plugin)
        self.plugins.fail(plugin, f"dcsim_startup: {type(exc).__name__}: {exc.detail}", exc)

    async def close(self) -> None:
        """Stop subscriptions, run shut-down hooks, close the bus and the store."""
        if not self.started:
            return
        await self._stop(None, bus_started=True)
        self.started = False
        log.info("dcsim.stopped")

    async def _stop(self, plugins: list[str] | None, bus_started: bool) -> None:
        """Undo a start: every plugin's (or only ``plugins``') shut-down, in reverse order."""
        for runner in self._runners:
            await runner.stop()
        self._runners.clear()
        await self.relay.stop()
        if plugins is None or plugins:
            for item in reversed(self.plugins.awaitables("dcsim_shutdown", plugins=plugins, dcsim=self)):
                try:
                    await item.awaitable
                except Exception:
                    log.exception("plugin.shutdown_failed", plugin=item.plugin)
        if bus_started:
            await self.bus.close()
        await self.changes.stop()
        await asyncio.to_thread(self.store.close)

    async def __aenter__(self) -> DcSim:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def publish(
        self,
        type: str,
        data: dict[str, Any] | None = None,
        *,
        source: str,
        subject: str | None = None,
    ) -> Event:
        """Publish an event of a declared type and return it.

        The event is committed to the store's outbox (a transaction of its own) and the
        relay publishes it on the bus, so this returns once the event is safe, whatever
        the bus is doing. An event caused by a change belongs in the change's own
        transaction instead: ``session.add_event(dcsim.event(...))`` inside
        ``store.transaction()``. Raises :class:`InvalidInput` when no plugin declared ``type``.
        """
        event = self.event(type, data, source=source, subject=subject)
        await asyncio.to_thread(self.store.add_event, event)
        return event

    def event(
        self,
        type: str,
        data: dict[str, Any] | None = None,
        *,
        source: str,
        subject: str | None = None,
    ) -> Event:
        """Build an event of a declared type (with its schema version), without publishing it.

        Raises :class:`InvalidInput` when no plugin declared ``type``.
        """
        if type not in self.event_types:
            raise InvalidInput(f"event type {type!r} is not declared by any plugin")
        declared = self.event_types[type]
        return Event(type=type, source=source, subject=subject, data=data or {}, schemaversion=declared.schemaversion)

    async def readiness(self) -> list[Check]:
        """Whether the store and the bus are reachable, how many events wait in the
        outbox, each plugin's status (a disabled plugin is an ok check saying so), and
        the checks plugins report through ``dcsim_readiness``.

        The probes run concurrently and each answers within
        :data:`READINESS_TIMEOUT_SECONDS` or is reported down, so a frozen dependency
        cannot hold the answer up.
        """
        probes = [
            _check("store", lambda: asyncio.to_thread(self.store.ping)),
            _check("bus", self.bus.ping),
            self._outbox_check(),
        ]
        plugin_checks = [self._plugin_checks(item) for item in self.plugins.awaitables("dcsim_readiness", dcsim=self)]
        core_checks, plugins_checks = await asyncio.gather(asyncio.gather(*probes), asyncio.gather(*plugin_checks))
        checks: list[Check] = list(core_checks)
        for info in self.plugins.infos:
            checks.append(Check(f"plugin:{info.name}", info.status != "failed", info.error or info.status))
        for result in plugins_checks:
            checks.extend(result)
        return checks

    async def _outbox_check(self) -> Check:
        try:
            async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
                waiting = await asyncio.to_thread(self.store.outbox_count)
        except TimeoutError:
            return Check("outbox", False, f"no answer within {READINESS_TIMEOUT_SECONDS:g} s")
        except DcsimError as exc:
            return Check("outbox", False, exc.detail)
        # Events waiting are not a failure: they go out when the bus is back.
        return Check("outbox", True, f"{waiting} events waiting")

    async def _plugin_checks(self, item: Any) -> list[Check]:
        try:
            async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
                result = await item.awaitable
        except TimeoutError:
            return [Check(f"plugin:{item.plugin}", False, f"no answer within {READINESS_TIMEOUT_SECONDS:g} s")]
        except Exception as exc:
            return [Check(f"plugin:{item.plugin}", False, f"{type(exc).__name__}: {exc}")]
        if not isinstance(result, list | None) or not all(isinstance(c, Check) for c in result or []):
            return [Check(f"plugin:{item.plugin}", False, f"dcsim_readiness returned {result!r}, not checks")]
        return list(result or [])

    def _ensure_admin_token(self) -> None:
        if self.store.list_tokens():
            return
        _, secret = self.store.create_token("admin", Role.ADMIN)
        write_secret(self.settings.admin_token_path, secret)
        self.new_admin_token = secret
        log.warning(
            "auth.admin_token_created",
            path=str(self.settings.admin_token_path),
            hint=f"read it with: cat {self.settings.admin_token_path}",
        )


def write_secret(path: Path, secret: str) -> None:
    """Write ``secret`` to ``path`` readable by its owner only (mode 0600)."""
    write_private(path, secret + "\n")


def _discard(awaitable: object) -> None:
    # A start aborted before these ran: close them, nobody will await them.
    if inspect.iscoroutine(awaitable):
        awaitable.close()


async def _check(name: str, probe: Any) -> Check:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await probe()
    except TimeoutError:
        return Check(name, False, f"no answer within {READINESS_TIMEOUT_SECONDS:g} s")
    except DcsimError as exc:
        return Check(name, False, exc.detail)
    except Exception as exc:
        return Check(name, False, f"{type(exc).__name__}: {exc}")
    return Check(name, True)


def open(
    data_dir: str | Path | None = None,
    *,
    plugins: Iterable[object] = (),
    settings: Settings | None = None,
    **overrides: Any,
) -> DcSim:
    """Build a dc-sim instance from settings and installed plugins, without a server.

    Args:
        data_dir: where the embedded store and files live (overrides the settings).
        plugins: extra plugin objects to register after the installed ones.
        settings: complete settings to use instead of loading them from the
            environment and the TOML file.
        **overrides: individual settings, by field name, over the loaded ones.

    Returns: an instance that is not started yet; use ``async with`` (or ``await
    start()`` and ``await close()``). It logs through the standard library and prints
    nothing unless the caller configures logging (:func:`dcsim.logs.library_logging`).
    """
    library_logging()
    if settings is None:
        settings = load_settings(data_dir=data_dir, **overrides)
    elif data_dir is not None or overrides:
        changes: dict[str, Any] = dict(overrides)
        if data_dir is not None:
            changes["data_dir"] = Path(data_dir)
        settings = attrs.evolve(settings, **changes)
    return DcSim(settings, load_plugins(settings, plugins))
