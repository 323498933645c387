"""Patch hooks: how package versions compare."""

from __future__ import annotations

from dcsim.hooks import hookspec


@hookspec(firstresult=True)
def dcsim_patch_compare_versions(os_family: str, installed: str, candidate: str) -> int | None:
    """Order two versions of a package, to tell whether a node is patched.

    When: whenever patch compliance compares an installed version with an advisory's
    fixed version. Core's implementation (an rpmvercmp-style comparison with epochs and
    ``~`` pre-releases, valid for RPM and Debian versions) runs last.

    Args:
        os_family: ``"rhel"``, ``"debian"`` or another family a plugin knows.
        installed: the version on the node.
        candidate: the version to compare it with.

    Returns: -1, 0 or 1 as ``installed`` is older than, equal to or newer than
    ``candidate``; None to leave it to the next plugin.
    Calling rule: first result; stops at the first non-None result.
    """
