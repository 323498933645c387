"""A node's labels: core's generic ones, and those plugins add per kind of owner.

A node's owner is any world object with a ``node`` (core's VMs and physical servers).
Core gives every node ``sim.platform``, ``sim.type`` (the owner's kind), ``sim.id``,
``sim.name``, ``sim.guest_os``, ``sim.vcpu``, ``sim.memory_mb``, ``sim.power_state``,
``sim.env``, ``sim.ansible_user`` and ``sim.ssh_port``; a provider registered through
``dcsim_sim_register_node_labels`` adds or overrides labels (``sim.<vendor>.*``), and
the labels stored on the node itself come last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dcsim.sim.model import Blade, Chassis
from dcsim.sim.world import World

#: ``provider(world, owner)``: labels to add for the node of ``owner`` (empty when none).
LabelProvider = Callable[[World, Any], dict[str, str]]


#: ``context(world, owner)``: fields to add to the data of ``<kind>.power_changed``.
PowerContext = Callable[[World, Any], dict[str, Any]]


class NodeLabelRegistry:
    """Label providers, called in registration order; handed to ``dcsim_sim_register_node_labels``."""

    def __init__(self) -> None:
        self.providers: list[LabelProvider] = []
        self.power_contexts: list[PowerContext] = []

    def add(self, provider: LabelProvider) -> None:
        """Add ``provider``; it is called for every node, and may return ``{}``."""
        self.providers.append(provider)

    def checkpoint(self) -> object:
        """What the registry holds now (``PluginHost.register_each`` forgets a failed plugin's additions)."""
        return (len(self.providers), len(self.power_contexts))

    def rollback(self, checkpoint: object) -> None:
        """Forget whatever was added since ``checkpoint``."""
        assert isinstance(checkpoint, tuple)
        del self.providers[checkpoint[0] :]
        del self.power_contexts[checkpoint[1] :]

    def add_power_context(self, context: PowerContext) -> None:
        """Add fields to the ``<kind>.power_changed`` event core publishes when a node
        other than a VM's is found powered on or off outside dc-sim."""
        self.power_contexts.append(context)

    def power_context(self, world: World, owner: Any) -> dict[str, Any]:
        """The fields every power context gives for ``owner``."""
        fields: dict[str, Any] = {}
        for context in self.power_contexts:
            fields |= context(world, owner)
        return fields

    def labels(self, world: World, owner: Any) -> dict[str, str]:
        """Every label of the node of ``owner``: core's, the providers', the node's own."""
        labels = core_labels(world, owner)
        for provider in self.providers:
            labels |= provider(world, owner)
        return labels | owner.node.labels  # type: ignore[no-any-return]


def platform_of(world: World, owner: Any) -> str:
    """The platform label of a node owner: its own, or its chassis' for a physical server."""
    if isinstance(owner, Blade):
        return world.get(Chassis, owner.chassis_id).platform
    return str(getattr(owner, "platform", ""))


def core_labels(world: World, owner: Any) -> dict[str, str]:
    """The labels core gives the node of ``owner``."""
    node = owner.node
    return {
        "sim.platform": platform_of(world, owner),
        "sim.type": world.kind_of(owner),
        "sim.id": owner.id,
        "sim.name": owner.name,
        "sim.guest_os": node.guest_os.value,
        "sim.vcpu": str(owner.cpu),
        "sim.memory_mb": str(owner.memory_mb),
        "sim.power_state": owner.power_state.value,
        "sim.env": node.env,
        "sim.ansible_user": node.ansible_user,
        "sim.ssh_port": str(node.ssh_port),
    }


__all__ = ["LabelProvider", "NodeLabelRegistry", "PowerContext", "core_labels", "platform_of"]
