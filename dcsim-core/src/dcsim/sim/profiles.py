"""Load profiles: how busy a simulated VM is, as fractions of its size."""

from __future__ import annotations

from dcsim.registry import LoadProfile

#: Core's profiles; plugins add more through ``dcsim_sim_register_load_profiles``.
DEFAULT_PROFILES: tuple[LoadProfile, ...] = (
    LoadProfile("idle", cpu=0.03, memory=0.20, io=0.01, description="a VM nobody uses"),
    LoadProfile("normal", cpu=0.25, memory=0.45, io=0.10, description="business-hours service load"),
    LoadProfile("stressed", cpu=0.85, memory=0.80, io=0.60, description="a VM near saturation"),
    LoadProfile("spiking", cpu=0.30, memory=0.50, io=0.15, spike_chance=0.2, description="normal with bursts"),
)
