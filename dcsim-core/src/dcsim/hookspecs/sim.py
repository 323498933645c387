"""Simulation hooks: what plugins add to the simulated estate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.registry import LoadProfileRegistry
    from dcsim.settings import Settings
    from dcsim.sim.topology import Topology


@hookspec
def dcsim_sim_seed_topology(topology: Topology, settings: Settings) -> None:
    """Add objects to the estate an empty store is seeded with.

    When: once, on the first start of an instance whose store holds no simulated
    objects (and by ``dcsim seed``), before anything is saved. Core's implementation
    builds the default 9-node estate when ``settings.sim_topology`` is ``"default"``
    and runs first (``tryfirst``), so a plugin can attach to its objects.

    Args:
        topology: call its builders (``topology.datacenter(...)``, ``.cluster``,
            ``.host``, ``.network``, ``.vm`` ...) or ``topology.add(obj)`` with a
            ``dcsim.sim.model`` object; ``topology.id(kind, name)`` gives stable ids
            and ``topology.world`` finds what is there already.
        settings: the effective settings (``sim_seed``, ``sim_topology``).

    Returns: nothing. Calling rule: every implementation is called.
    """


@hookspec
def dcsim_sim_register_load_profiles(registry: LoadProfileRegistry) -> None:
    """Add load profiles that simulated metrics can follow for a VM.

    When: once, while the instance is built. Core registers ``idle``, ``normal``,
    ``stressed`` and ``spiking``; a plugin may add more (a name may be added once).

    Args:
        registry: call ``registry.add(LoadProfile(name=..., cpu=..., memory=..., io=...,
            spike_chance=...))``; fractions are of the VM's size, from 0 to 1.

    Returns: nothing. Calling rule: every implementation is called.
    """
