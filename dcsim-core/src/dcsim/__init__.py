"""dc-sim: a datacenter you can pip install.

Plugin authors need only ``from dcsim import hookimpl``. Tool builders use
``dcsim.open(...)`` to get the same services the server runs on, in-process.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from dcsim.hooks import hookimpl

try:
    __version__ = version("dcsim-core")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["DcSim", "__version__", "hookimpl", "open"]


def __getattr__(name: str) -> Any:
    # The library entry points pull in SQLAlchemy, Litestar and redis: import them only
    # when asked, so that ``from dcsim import hookimpl`` stays light for plugin modules.
    if name in {"open", "DcSim"}:
        from dcsim import app

        return getattr(app, name)
    raise AttributeError(f"module 'dcsim' has no attribute {name!r}")
