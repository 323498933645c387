"""Lifecycle hooks: services, start-up, shut-down and readiness of a dc-sim instance.

These run in library mode (``dcsim.open``) and in the server alike. The contract of
every hook, enforced when a plugin loads and when its hooks are called:

- ``dcsim_startup``, ``dcsim_shutdown`` and ``dcsim_readiness`` are ``async def`` hooks
  and take ``async def`` implementations; every other hook takes plain ``def`` ones. A
  mismatch fails the plugin at load, naming the hook.
- Registration hooks (``dcsim_register_*``, ``dcsim_<area>_register_*``) run one
  implementation at a time: one that raises fails its plugin (listed with the error by
  ``/plugins``, ``/readyz`` and ``dcsim plugins``; its other hooks no longer called;
  what it added rolled back where the registry can) and the others go on.
- Every hook is called through pluggy, so ``@hookimpl(wrapper=True)`` works everywhere.
  On an async hook the wrapper's ``yield`` gives the list of the implementations'
  coroutines, which dc-sim awaits one after the other once the wrapper returns it.
- A first-result hook's answer is checked: one outside the documented values raises
  ``dcsim.errors.PluginContractError`` naming the plugin, the hook and the value.

Strict mode (``--strict``, ``DCSIM_STRICT_PLUGINS=true``) makes any plugin failure fatal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.model import Check
    from dcsim.registry import CommandRegistry, ServiceRegistry
    from dcsim.settings import Settings


@hookspec
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    """Add services to the instance, reachable by type as ``dcsim.services.get(cls)``.

    When: once, while the instance is built, before it starts; first of the
    registration hooks. ``dcsim plugins`` and ``dcsim version`` do not call it.

    Args:
        registry: call ``registry.add(name, service)``; a name may be added once.
            Other plugins find the service with ``registry.get(cls)`` (raises
            ``ServiceUnavailable`` when absent) or ``registry.find(cls)`` (None).
        settings: the effective settings, to configure the service.

    Returns: nothing. Calling rule: every implementation is called, one at a time; one
    that raises fails its plugin (the others go on; fatal in strict mode).
    """


@hookspec
async def dcsim_startup(dcsim: DcSim) -> None:
    """Start the plugin's work: open connections, start background tasks.

    When: once, after the store is migrated, the bus is connected and every
    subscriber's consumer group exists (so events published here are delivered once
    subscriptions start, right after the last start-up hook), before the instance
    serves anything. Implement it with ``async def``.

    Args:
        dcsim: the instance being started, with its settings, store, bus and services.

    Returns: nothing. Calling rule: every implementation is called through pluggy, in
    pluggy's order (``tryfirst``/``trylast`` respected), and its coroutine awaited
    before the next one's; a wrapper (``wrapper=True``) gets the list of coroutines
    from its ``yield`` and returns the list to await. ``ServiceUnavailable`` (a service
    the plugin needs is off: ``dcsim.sim`` or ``dcsim.services.get(cls)`` with its
    plugin disabled) fails that plugin only: it gets ``dcsim_shutdown``, its
    subscriptions do not start, the others go on (fatal in strict mode). Any other
    exception aborts start-up and undoes it: ``dcsim_shutdown`` runs for the plugins
    whose start-up ran (the failing one included), then the bus and the store close.
    Core's ``sim``, ``cmdb`` and
    ``itsm`` plugins are ``tryfirst``: their services run when another plugin's
    implementation runs.
    """


@hookspec
async def dcsim_shutdown(dcsim: DcSim) -> None:
    """Stop what ``dcsim_startup`` started.

    When: once, as the instance closes, before the bus and the store close; also when
    a start fails, for the plugins whose ``dcsim_startup`` ran or was running (so it
    must cope with a partial start). Implement it with ``async def``.

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
    Implement it with ``async def``.

    Args:
        dcsim: the running instance.

    Returns: a list of :class:`dcsim.model.Check`, or None for nothing to report.
    Calling rule: every implementation is called and the lists are joined; one that
    raises, or returns something else, becomes a failed check ``plugin:<name>``.
    """


@hookspec
def dcsim_register_commands(registry: CommandRegistry) -> None:
    """Add sub-commands to the ``dcsim`` command line.

    When: each time ``dcsim`` runs, before it parses its arguments (with the plugins
    the settings enable), so keep it light: import heavy things inside the command.

    Args:
        registry: call ``registry.add(command)`` with a ``click.Command`` or
            ``click.Group``; it becomes ``dcsim <command.name>``. A name core's own
            commands use is refused (the plugin fails, as for any registration hook).

    Returns: nothing.
    Calling rule: collected, one implementation at a time (a plugin that raises fails).

    Example::

        import click


        @hookimpl
        def dcsim_register_commands(registry):
            @click.group()
            def pdu():
                "PDU tools."

            registry.add(pdu)
    """
