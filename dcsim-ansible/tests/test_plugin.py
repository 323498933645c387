"""The `ansible` plugin package passes core's plugin-package contract."""

from __future__ import annotations

from dcsim.testing import PluginPackageContract


class TestPackage(PluginPackageContract):
    NAME = "ansible"
    MODULE = "dcsim_ansible.plugin"
    DISTRIBUTION = "dcsim-ansible"
