"""The contract of node backends (``dcsim.nodes`` stevedore namespace, ``node_backend``).

A node is the guest side of a VM, an instance or a bare-metal blade: a name, an OS
identity, a config tree (``/etc``), a package inventory and an SSH port. The engine
tells the backend what should exist and in which power state; the backend reports back
what it observes (file changes inside a node, power changes made outside dc-sim)
through a :class:`NodeListener`. The contract suite in ``tests/nodes`` runs against
every backend.
"""

from __future__ import annotations

import abc
import functools
from typing import TYPE_CHECKING, Protocol

import attrs

from dcsim.sim.model import GuestOs, PowerState

if TYPE_CHECKING:
    from dcsim.settings import Settings

#: Files every node's config tree has, watched for changes (paths inside the node).
WATCHED_DIR = "/etc"


@attrs.frozen(kw_only=True)
class NodeSpec:
    """What a node should be: identity, size, labels and power state."""

    name: str
    guest_os: GuestOs
    ssh_port: int
    cpu: int
    memory_mb: int
    power_state: PowerState
    labels: dict[str, str] = attrs.field(factory=dict)
    ansible_user: str = "root"
    #: ``authorized_keys`` lines for the node's user besides dc-sim's own key, fixed when
    #: the node is made (``/root/.ssh/authorized_keys`` holds dc-sim's key, then these).
    authorized_keys: tuple[str, ...] = ()
    #: Materialise the config tree and package inventory on first touch (any file,
    #: package or snapshot call, or the Ansible connection opening it) instead of now;
    #: on a backend that cannot defer (docker) such a node is a virtual one (``deferred.py``).
    lazy: bool = False


class NodeListener(Protocol):
    """What a backend reports to the engine."""

    async def node_file_changed(self, node: str, path: str, diff: str) -> None:
        """A file under ``/etc`` of ``node`` changed; ``diff`` is a unified diff
        (``--- a/<path>`` / ``+++ b/<path>``), empty lines of context included."""

    async def node_power_observed(self, node: str, power_state: PowerState) -> None:
        """``node`` was found in ``power_state`` by something other than dc-sim."""


class NodeBackend(abc.ABC):
    """Base class of node backends; a backend class is constructed with the settings."""

    name: str = "abstract"
    #: Keeps a lazy node (``NodeSpec.lazy``) as a record until first touch. A backend that
    #: does not is given lazy nodes on the virtual backend (``sim/nodes/deferred.py``).
    defers_lazy: bool = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def ansible_host_vars(cls, settings: Settings) -> dict[str, str]:
        """Inventory host variables, besides host, port and user, that Ansible needs to
        reach this backend's nodes (e.g. ``ansible_connection``); none means plain SSH."""
        return {}

    def host_vars(self, name: str) -> dict[str, str]:
        """The host variables Ansible needs to reach node ``name`` (:meth:`ansible_host_vars`
        unless the backend holds nodes of several kinds)."""
        return self._backend_host_vars

    @functools.cached_property
    def _backend_host_vars(self) -> dict[str, str]:
        # Once: an inventory asks for every node's, and the virtual backend's resolve a path.
        return self.ansible_host_vars(self.settings)

    @abc.abstractmethod
    async def start(self, listener: NodeListener) -> None:
        """Connect, and start reporting changes to ``listener``."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop watching; nodes keep existing (they are state, like the store)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Return when the backend works; raise :class:`dcsim.errors.Unavailable` if not."""

    @abc.abstractmethod
    async def ensure(self, spec: NodeSpec) -> None:
        """Create the node if it does not exist, then bring it to ``spec.power_state``.

        Idempotent: ensuring an existing node changes only its power state.
        """

    @abc.abstractmethod
    async def set_power(self, name: str, power_state: PowerState) -> None:
        """Power a node on, off or suspend it; NotFound if it does not exist."""

    @abc.abstractmethod
    async def power_state(self, name: str) -> PowerState | None:
        """The node's observed power state, None if it does not exist."""

    @abc.abstractmethod
    async def labels(self, name: str) -> dict[str, str]:
        """The node's current labels (those of its spec, or of the last :meth:`set_labels`);
        NotFound if it does not exist."""

    @abc.abstractmethod
    async def set_labels(self, name: str, labels: dict[str, str]) -> None:
        """Replace the node's labels, whatever its power state; NotFound if it does not exist."""

    @abc.abstractmethod
    async def remove(self, name: str) -> None:
        """Delete the node and its files; a no-op if it does not exist."""

    @abc.abstractmethod
    async def snapshot(self, name: str, snapshot_id: str) -> None:
        """Keep a copy of the node's files under ``snapshot_id``."""

    @abc.abstractmethod
    async def read_file(self, name: str, path: str) -> str:
        """The text of ``path`` inside the node; NotFound if node or file is missing."""

    @abc.abstractmethod
    async def write_file(self, name: str, path: str, content: str) -> None:
        """Replace the text of ``path`` inside the node (creating it)."""

    @abc.abstractmethod
    async def packages(self, name: str) -> dict[str, str]:
        """The node's package inventory: package name to installed version."""

    @abc.abstractmethod
    async def list_nodes(self) -> list[str]:
        """Names of the nodes that exist."""
