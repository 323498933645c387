"""Lazy nodes on a backend that makes every node at once: they live on the virtual backend.

A generated estate (``dcsim seed --vms N``) has a lazy node per VM (``NodeSpec.lazy``).
The virtual backend keeps such a node as a state record until it is touched; a backend
that cannot defer (``NodeBackend.defers_lazy`` false: docker, one container per node)
would make thousands of containers. :func:`with_lazy_nodes` wraps such a backend in
:class:`DeferredNodes`: lazy nodes go to a :class:`VirtualNodes` in the same data
directory, every other node (the seed's) to the configured backend. Each node's host
vars for Ansible are those of the backend that holds it (:meth:`NodeBackend.host_vars`).
"""

from __future__ import annotations

import asyncio

from dcsim.sim.model import PowerState
from dcsim.sim.nodes.base import NodeBackend, NodeListener, NodeSpec
from dcsim.sim.nodes.virtual import VirtualNodes


def with_lazy_nodes(backend: NodeBackend) -> NodeBackend:
    """``backend`` itself when it defers lazy nodes, else it with lazy nodes kept virtual."""
    return backend if backend.defers_lazy else DeferredNodes(backend)


class DeferredNodes(NodeBackend):
    """The configured backend for nodes made at once, the virtual backend for lazy ones.

    Which backend holds a node is known from :meth:`ensure` and, at :meth:`start`, from
    the virtual backend's state records (a lazy node stays virtual across restarts).
    """

    defers_lazy = True

    def __init__(self, backend: NodeBackend) -> None:
        super().__init__(backend.settings)
        self.backend = backend
        self.virtual = VirtualNodes(backend.settings)
        #: Named after the configured backend: that is what the operator chose.
        self.name = backend.name
        self._virtual_names: set[str] = set()

    def _of(self, name: str) -> NodeBackend:
        return self.virtual if name in self._virtual_names else self.backend

    def host_vars(self, name: str) -> dict[str, str]:
        """The host vars of the backend that holds ``name``."""
        return self._of(name).host_vars(name)

    async def start(self, listener: NodeListener) -> None:
        """Start both backends; the virtual one's existing nodes stay virtual."""
        await self.backend.start(listener)
        await self.virtual.start(listener)
        self._virtual_names = set(await self.virtual.list_nodes())

    async def close(self) -> None:
        """Close both backends."""
        await asyncio.gather(self.backend.close(), self.virtual.close())

    async def ping(self) -> None:
        """Both backends must work."""
        await self.backend.ping()
        await self.virtual.ping()

    async def ensure(self, spec: NodeSpec) -> None:
        """A lazy node on the virtual backend, any other on the configured one."""
        if spec.lazy:
            self._virtual_names.add(spec.name)
            await self.virtual.ensure(spec)
        else:
            self._virtual_names.discard(spec.name)
            await self.backend.ensure(spec)

    async def set_power(self, name: str, power_state: PowerState) -> None:
        """Power the node on the backend that holds it."""
        await self._of(name).set_power(name, power_state)

    async def power_state(self, name: str) -> PowerState | None:
        """The node's power state from the backend that holds it."""
        return await self._of(name).power_state(name)

    async def labels(self, name: str) -> dict[str, str]:
        """The node's labels from the backend that holds it."""
        return await self._of(name).labels(name)

    async def set_labels(self, name: str, labels: dict[str, str]) -> None:
        """Set the node's labels on the backend that holds it."""
        await self._of(name).set_labels(name, labels)

    async def remove(self, name: str) -> None:
        """Remove the node from the backend that holds it."""
        await self._of(name).remove(name)
        self._virtual_names.discard(name)

    async def snapshot(self, name: str, snapshot_id: str) -> None:
        """Snapshot the node on the backend that holds it."""
        await self._of(name).snapshot(name, snapshot_id)

    async def read_file(self, name: str, path: str) -> str:
        """Read a file of the node from the backend that holds it."""
        return await self._of(name).read_file(name, path)

    async def write_file(self, name: str, path: str, content: str) -> None:
        """Write a file of the node on the backend that holds it."""
        await self._of(name).write_file(name, path, content)

    async def packages(self, name: str) -> dict[str, str]:
        """The node's packages from the backend that holds it."""
        return await self._of(name).packages(name)

    async def list_nodes(self) -> list[str]:
        """The nodes of both backends."""
        return sorted({*await self.backend.list_nodes(), *await self.virtual.list_nodes()})
