"""The `openstack` plugin package passes core's plugin-package contract."""

from __future__ import annotations

from dcsim.testing import PluginPackageContract


class TestPackage(PluginPackageContract):
    NAME = "openstack"
    MODULE = "dcsim_openstack.plugin"
    DISTRIBUTION = "dcsim-openstack"
