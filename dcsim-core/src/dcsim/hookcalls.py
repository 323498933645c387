"""Typed calls of core's query hooks, with their answers checked.

``dcsim.call.itsm_priority(impact=1, urgency=2)`` returns a ``str`` that is one of
``P1``-``P4``; a plugin answering anything else raises
:class:`~dcsim.errors.PluginContractError` naming the plugin, the hook and the value
(answered as a 500 problem by the host app). When no implementation answers (the
plugin giving core's default is disabled) :class:`~dcsim.errors.ServiceUnavailable`
says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from dcsim.errors import ServiceUnavailable

if TYPE_CHECKING:
    from dcsim.itsm.sla import SlaTarget
    from dcsim.plugins import PluginHost
    from dcsim.settings import Settings
    from dcsim.sim.topology import Topology

T = TypeVar("T")

PRIORITIES = ("P1", "P2", "P3", "P4")


def _priority(value: object) -> str:
    if not isinstance(value, str) or value not in PRIORITIES:
        raise ValueError(f"a priority is one of {', '.join(PRIORITIES)}")
    return value


def _order(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in (-1, 0, 1):
        raise ValueError("an ordering is -1, 0 or 1")
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("the answer is True or False")
    return value


def _sla_target(value: object) -> SlaTarget:
    from dcsim.itsm.sla import SlaTarget

    if not isinstance(value, SlaTarget):
        raise ValueError("targets are a dcsim.itsm.sla.SlaTarget")
    return value


def _answered(hook: str, value: T | None, default_by: str) -> T:
    if value is None:
        raise ServiceUnavailable(
            f"no plugin answered {hook}: the {default_by!r} plugin, which gives core's answer, is off",
            hook=hook,
        )
    return value


class HookCalls:
    """Typed callers of core's query hooks, for one instance's plugins."""

    def __init__(self, plugins: PluginHost) -> None:
        self._plugins = plugins

    def itsm_priority(self, impact: int, urgency: int) -> str:
        """``dcsim_itsm_priority``: ``"P1"`` to ``"P4"``."""
        hook = "dcsim_itsm_priority"
        answer = self._plugins.first_result(hook, _priority, impact=impact, urgency=urgency)
        return _answered(hook, answer, "itsm")

    def itsm_sla_targets(self, priority: str) -> SlaTarget:
        """``dcsim_itsm_sla_targets``: the response and resolution targets of ``priority``."""
        hook = "dcsim_itsm_sla_targets"
        return _answered(hook, self._plugins.first_result(hook, _sla_target, priority=priority), "itsm")

    def patch_compare_versions(self, os_family: str, installed: str, candidate: str) -> int:
        """``dcsim_patch_compare_versions``: -1, 0 or 1."""
        hook = "dcsim_patch_compare_versions"
        kwargs = {"os_family": os_family, "installed": installed, "candidate": candidate}
        return _answered(hook, self._plugins.first_result(hook, _order, **kwargs), "patch")

    def drift_values_equal(self, field: str, desired: Any, actual: Any) -> bool:
        """``dcsim_drift_values_equal``: whether ``actual`` matches ``desired``."""
        hook = "dcsim_drift_values_equal"
        answer = self._plugins.first_result(hook, _boolean, field=field, desired=desired, actual=actual)
        return _answered(hook, answer, "drift")

    def sim_seed_topology(self, topology: Topology, settings: Settings) -> None:
        """``dcsim_sim_seed_topology``: every plugin adds its objects to ``topology``."""
        self._plugins.notify("dcsim_sim_seed_topology", topology=topology, settings=settings)
