"""The `ucs` plugin package passes core's plugin-package contract."""

from __future__ import annotations

from dcsim.testing import PluginPackageContract


class TestPackage(PluginPackageContract):
    NAME = "ucs"
    MODULE = "dcsim_ucs.plugin"
    DISTRIBUTION = "dcsim-ucs"
