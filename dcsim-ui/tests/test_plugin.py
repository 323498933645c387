"""The `ui` plugin package passes core's plugin-package contract."""

from __future__ import annotations

from dcsim.testing import PluginPackageContract


class TestPackage(PluginPackageContract):
    NAME = "ui"
    MODULE = "dcsim_ui.plugin"
    DISTRIBUTION = "dcsim-ui"
