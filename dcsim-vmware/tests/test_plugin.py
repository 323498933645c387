"""The `vmware` plugin package passes core's plugin-package contract."""

from __future__ import annotations

from dcsim.testing import PluginPackageContract


class TestPackage(PluginPackageContract):
    NAME = "vmware"
    MODULE = "dcsim_vmware.plugin"
    DISTRIBUTION = "dcsim-vmware"
