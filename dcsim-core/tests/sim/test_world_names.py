"""Names in the world: unique per kind unless a kind is registered with ``unique_names=False``."""

from __future__ import annotations

import attrs
import pytest

from dcsim.errors import Conflict, NotFound
from dcsim.sim.kinds import KindRegistry
from dcsim.sim.model import Network
from dcsim.sim.world import World


@attrs.define(kw_only=True)
class Rule:
    """A test kind whose objects may share a name."""

    id: str
    name: str


def _world() -> World:
    kinds = KindRegistry()
    kinds.add("rule", Rule, unique_names=False)
    return World(kinds)


def test_a_kind_with_shared_names_holds_two_objects_of_one_name():
    world = _world()
    world.add(Rule(id="r1", name="default"))
    world.add(Rule(id="r2", name="default"))
    assert [r.id for r in world.all(Rule)] == ["r1", "r2"]
    assert world.get(Rule, "r2").id == "r2"
    with pytest.raises(NotFound):  # ambiguous: two share it
        world.get(Rule, "default")
    world.remove(world.get(Rule, "r1"))
    assert world.get(Rule, "default").id == "r2"  # one left: found by name again


def test_core_kinds_keep_unique_names():
    world = _world()
    world.add(Network(id="n1", name="net", datacenter_id="d", platform="p"))
    with pytest.raises(Conflict):
        world.add(Network(id="n2", name="net", datacenter_id="d", platform="p"))
    assert world.kinds_registry.get("network").unique_names
    assert not world.kinds_registry.get("rule").unique_names
