"""The ``patch`` plugin: the default ordering of package versions."""

from __future__ import annotations

from dcsim.hooks import hookimpl
from dcsim.patch.versions import compare_versions


@hookimpl(trylast=True)
def dcsim_patch_compare_versions(os_family: str, installed: str, candidate: str) -> int:
    return compare_versions(installed, candidate)
