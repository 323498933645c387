"""dc-sim: a datacenter you can pip install.

Plugin authors need only ``from dcsim import hookimpl``. Tool builders use
``dcsim.open(...)`` to get the same services the server runs on, in-process.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from dcsim.hooks import hookimpl

try:
    __version__ = version("dcsim-core")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__", "hookimpl"]
