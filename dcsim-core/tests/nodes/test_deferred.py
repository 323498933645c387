"""Lazy nodes on a backend that makes every node at once are virtual nodes (``deferred.py``).

The backend that cannot defer is a virtual backend told so, over a directory of its own
and answering plain SSH host vars, so these run anywhere; the docker backend's case, with
Ansible reaching both kinds of node, is dcsim-ansible's ``test_generated_estate_docker``.
"""

from __future__ import annotations

from pathlib import Path

from dcsim.drivers import driver_class
from dcsim.settings import Settings
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import NodeSpec
from dcsim.sim.nodes.deferred import DeferredNodes, with_lazy_nodes
from dcsim.sim.nodes.virtual import VirtualNodes

from .conftest import Recorder


class EagerNodes(VirtualNodes):
    """A backend that makes every node at once, in ``<data_dir>/eager``."""

    name = "eager"
    defers_lazy = False

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.nodes_dir = settings.data_dir / "eager"
        self._staging_dir = settings.data_dir / "eager-staging"

    @classmethod
    def ansible_host_vars(cls, settings: Settings) -> dict[str, str]:
        return {}


def _spec(name: str, *, lazy: bool) -> NodeSpec:
    return NodeSpec(name=name, guest_os=GuestOs.RHEL9, ssh_port=22990, cpu=1, memory_mb=512,
                    power_state=PowerState.ON, lazy=lazy)  # fmt: skip


def test_backends_that_defer_are_used_as_they_are(tmp_path: Path) -> None:
    virtual = VirtualNodes(Settings(data_dir=tmp_path))
    assert with_lazy_nodes(virtual) is virtual
    assert driver_class("dcsim.nodes", "docker").defers_lazy is False
    wrapped = with_lazy_nodes(EagerNodes(Settings(data_dir=tmp_path)))
    assert isinstance(wrapped, DeferredNodes) and wrapped.name == "eager"


async def test_lazy_nodes_go_virtual_and_the_others_to_the_backend(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    nodes = DeferredNodes(EagerNodes(settings))
    await nodes.start(Recorder())
    try:
        await nodes.ensure(_spec("gen-1", lazy=True))
        await nodes.ensure(_spec("seed-1", lazy=False))
        # The lazy node is a state record of the virtual backend; the other a full tree of the eager one.
        assert sorted(p.name for p in (settings.data_dir / "nodes" / "gen-1").iterdir()) == ["state.json"]
        assert (settings.data_dir / "eager" / "seed-1" / "root" / "etc" / "hostname").is_file()
        assert not (settings.data_dir / "eager" / "gen-1").exists()
        assert await nodes.list_nodes() == ["gen-1", "seed-1"]
        assert nodes.host_vars("gen-1")["ansible_connection"] == "dcsim_virtual"
        assert nodes.host_vars("seed-1") == {}
        # Calls by name reach the backend that holds the node; the lazy one is made on first touch.
        assert await nodes.read_file("gen-1", "/etc/hostname") == "gen-1\n"
        await nodes.write_file("seed-1", "/etc/motd", "eager\n")
        assert (settings.data_dir / "eager" / "seed-1" / "root" / "etc" / "motd").read_text() == "eager\n"
        await nodes.set_power("gen-1", PowerState.OFF)
        assert await nodes.power_state("gen-1") == PowerState.OFF
        assert await nodes.power_state("seed-1") == PowerState.ON
    finally:
        await nodes.close()

    # After a restart the lazy node is still the virtual backend's.
    again = DeferredNodes(EagerNodes(settings))
    await again.start(Recorder())
    try:
        assert again.host_vars("gen-1")["ansible_connection"] == "dcsim_virtual"
        assert await again.power_state("gen-1") == PowerState.OFF
        await again.remove("gen-1")
        assert await again.list_nodes() == ["seed-1"]
    finally:
        await again.close()
