"""vSphere adapter for dc-sim: runs or connects to vcsim and maps it onto the simulation with pyvmomi."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dcsim-vmware")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
