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
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import structlog
from prometheus_client import CollectorRegistry

from dcsim.bus.base import EventBus
from dcsim.bus.subscription import SubscriptionRunner
from dcsim.drivers import load_driver
from dcsim.errors import DcsimError, InvalidInput
from dcsim.model import Check, Event, Role
from dcsim.plugins import PluginHost, load_plugins
from dcsim.registry import (
    CmdbTypeRegistry,
    EventTypeRegistry,
    LoadProfileRegistry,
    ServiceRegistry,
    SubscriberRegistry,
)
from dcsim.settings import Settings, load_settings
from dcsim.store.base import Store

if TYPE_CHECKING:
    from dcsim.sim.engine import Simulation

log = structlog.get_logger(__name__)


class DcSim:
    """One dc-sim instance. Build it with :func:`open`; start it with ``async with``."""

    def __init__(self, settings: Settings, plugins: PluginHost) -> None:
        self.settings = settings
        self.plugins = plugins
        self.hook = plugins.hook
        self.services = ServiceRegistry()
        self.event_types = EventTypeRegistry()
        self.subscribers = SubscriberRegistry()
        self.load_profiles = LoadProfileRegistry()
        self.cmdb_types = CmdbTypeRegistry()
        #: Prometheus registry of this instance, served at ``/metrics``; plugins add collectors.
        self.metrics = CollectorRegistry()
        self.hook.dcsim_register_services(registry=self.services, settings=settings)
        self.hook.dcsim_register_event_types(registry=self.event_types)
        self.hook.dcsim_register_subscribers(registry=self.subscribers)
        self.hook.dcsim_sim_register_load_profiles(registry=self.load_profiles)
        self.hook.dcsim_cmdb_register_types(registry=self.cmdb_types)
        self.store: Store = load_driver("dcsim.store", settings)
        self.bus: EventBus = load_driver("dcsim.bus", settings)
        self._runners: list[SubscriptionRunner] = []
        self.started = False
        #: The admin token's secret when this start created it (first start only).
        self.new_admin_token: str | None = None

    @property
    def sim(self) -> Simulation:
        """The simulation engine (core's ``sim`` service)."""
        return self.services["sim"]  # type: ignore[no-any-return]

    async def start(self) -> None:
        """Migrate the store, connect the bus, run start-up hooks and subscriptions."""
        if self.started:
            return
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self.store.upgrade)
        await self.bus.start()
        if self.settings.create_admin_token:
            await asyncio.to_thread(self._ensure_admin_token)
        for impl in reversed(self.hook.dcsim_startup.get_hookimpls()):
            await _call(impl, dcsim=self)
        for subscriber in self.subscribers.values():
            # Create the group now: events published right after start() must reach it.
            await self.bus.ensure_group(subscriber.group)
            runner = SubscriptionRunner(self.bus, subscriber, self)
            runner.start()
            self._runners.append(runner)
        self.started = True
        details = {"plugins": self.plugins.loaded(), "bus": self.bus.name, "store": self.store.name}
        log.info("dcsim.started", **details)
        await self.publish("dcsim.started", details, source="/dcsim")

    async def close(self) -> None:
        """Stop subscriptions, run shut-down hooks, close the bus and the store."""
        if not self.started:
            return
        for runner in self._runners:
            await runner.stop()
        self._runners.clear()
        for impl in self.hook.dcsim_shutdown.get_hookimpls():
            try:
                await _call(impl, dcsim=self)
            except Exception:
                log.exception("plugin.shutdown_failed", plugin=impl.plugin_name)
        await self.bus.close()
        await asyncio.to_thread(self.store.close)
        self.started = False
        log.info("dcsim.stopped")

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
        """Publish an event of a declared type on the bus and return it.

        Raises :class:`InvalidInput` when no plugin declared ``type``.
        """
        if type not in self.event_types:
            raise InvalidInput(f"event type {type!r} is not declared by any plugin")
        declared = self.event_types[type]
        event = Event(type=type, source=source, subject=subject, data=data or {}, schemaversion=declared.schemaversion)
        await self.bus.publish(event)
        return event

    async def readiness(self) -> list[Check]:
        """Whether the store and the bus are reachable, each plugin's load status, and
        the checks plugins report through ``dcsim_readiness``."""
        checks = [await _check("store", lambda: asyncio.to_thread(self.store.ping))]
        checks.append(await _check("bus", self.bus.ping))
        for info in self.plugins.infos:
            if info.status != "disabled":
                checks.append(Check(f"plugin:{info.name}", info.status == "loaded", info.error or info.status))
        for impl in reversed(self.hook.dcsim_readiness.get_hookimpls()):
            try:
                result = await _call(impl, dcsim=self)
            except Exception as exc:
                result = [Check(f"plugin:{impl.plugin_name}", False, f"{type(exc).__name__}: {exc}")]
            checks.extend(result or [])
        return checks

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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)


async def _call(impl: Any, **kwargs: Any) -> Any:
    """Call one hook implementation as pluggy would (with the arguments it names),
    awaiting it when it is a coroutine: pluggy itself does not await."""
    value = impl.function(*(kwargs[name] for name in impl.argnames))
    return await value if inspect.isawaitable(value) else value


async def _check(name: str, probe: Any) -> Check:
    try:
        await probe()
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
    start()`` and ``await close()``).
    """
    if settings is None:
        settings = load_settings(data_dir=data_dir, **overrides)
    elif data_dir is not None or overrides:
        changes: dict[str, Any] = dict(overrides)
        if data_dir is not None:
            changes["data_dir"] = Path(data_dir)
        settings = attrs.evolve(settings, **changes)
    return DcSim(settings, load_plugins(settings, plugins))
