"""Cinder's seed: the volume types every estate starts with."""

from __future__ import annotations

from dcsim.sim.topology import Topology
from dcsim_openstack.volume.model import DEFAULT_TYPE, VolumeType


def seed_volume_types(topology: Topology) -> None:
    """``__DEFAULT__`` (what a volume created without a type gets, as Cinder names it) and ``ssd``."""
    for name, description in ((DEFAULT_TYPE, "Default Volume Type"), ("ssd", "solid-state backed volumes")):
        topology.add(VolumeType(id=topology.id("volume_type", name), name=name, description=description))


__all__ = ["seed_volume_types"]
