"""Simulation hooks: what plugins add to the simulated estate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.registry import LoadProfileRegistry


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
