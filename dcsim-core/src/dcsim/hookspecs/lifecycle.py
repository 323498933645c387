"""Lifecycle hooks: services, start-up, shut-down and readiness of a dc-sim instance.

These run in library mode (``dcsim.open``) and in the server alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.model import Check
    from dcsim.registry import ServiceRegistry
    from dcsim.settings import Settings


@hookspec
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    """Add named services to the instance, reachable as ``dcsim.services[name]``.

    When: once, while the instance is built, before it starts.

    Args:
        registry: call ``registry.add(name, service)``; a name may be added once.
        settings: the effective settings, to configure the service.

    Returns: nothing. Calling rule: every implementation is called.
    """


@hookspec
async def dcsim_startup(dcsim: DcSim) -> None:
    """Start the plugin's work: open connections, start background tasks.

    When: once, after the store is migrated and the bus is connected, before the
    instance serves anything. Implementations may be coroutines.

    Args:
        dcsim: the instance being started, with its settings, store, bus and services.

    Returns: nothing. Calling rule: every implementation is called, one after the other
    in pluggy's order (``tryfirst``/``trylast`` respected); an exception aborts start-up.
    Core's own implementation is ``tryfirst``: the simulation (``dcsim.sim``), CMDB and
    ITSM services are started when a plugin's implementation runs.
    """


@hookspec
async def dcsim_shutdown(dcsim: DcSim) -> None:
    """Stop what ``dcsim_startup`` started.

    When: once, as the instance closes, before the bus and the store close.
    Implementations may be coroutines.

    Args:
        dcsim: the instance being closed.

    Returns: nothing. Calling rule: every implementation is called, in the reverse of
    the start-up order (so core's services stop after every plugin's); an exception is
    logged and does not stop the others.
    """


@hookspec
async def dcsim_readiness(dcsim: DcSim) -> list[Check] | None:
    """Report whether what the plugin depends on is reachable.

    When: on every ``GET /readyz`` and ``DcSim.readiness()`` call. Keep it fast.
    Implementations may be coroutines.

    Args:
        dcsim: the running instance.

    Returns: a list of :class:`dcsim.model.Check`, or None for nothing to report.
    Calling rule: every implementation is called and the lists are joined.
    """
