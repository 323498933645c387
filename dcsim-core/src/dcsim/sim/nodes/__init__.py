"""Node backends: where a simulated guest lives (stevedore namespace ``dcsim.nodes``)."""

from dcsim.sim.nodes.base import NodeBackend, NodeListener, NodeSpec

__all__ = ["NodeBackend", "NodeListener", "NodeSpec"]
