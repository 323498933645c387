"""Patch hooks: where advisories come from, how package versions compare, what a run's steps tell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.patch.advisories import AdvisoryFeedRegistry


@hookspec
def dcsim_patch_register_advisory_feeds(registry: AdvisoryFeedRegistry) -> None:
    """Register advisory feeds: more advisories next to the data file core ships.

    When: once, as the ``patch`` plugin starts; each feed is read then and again on every
    compliance scan (``POST /patch/compliance/scan``), so a feed can follow a source that
    changes.

    Args:
        registry: call ``registry.add(name, feed)``. ``feed()`` returns a list of
            :class:`dcsim.patch.model.Advisory` or of dicts of its fields (``id``,
            ``title``, ``cvss``, ``severity``, ``type``, ``reboot_suggested``,
            ``affected``: ``[{os, package, fixed_version}]``). An advisory with the id of
            a bundled one replaces it.

    Returns: nothing.
    Calling rule: collected; every implementation is called.
    """


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


@hookspec
def dcsim_patch_run_step(run: dict[str, Any], step: str) -> None:
    """Be told that a patch run enters a step.

    When: as a run moves to each step of its lifecycle, in order: ``plan``, ``validate``,
    ``snapshot``, ``execute``, ``verify``, ``report``, ``alert``, then ``completed``,
    ``failed`` or ``cancelled``. An exception from an implementation is logged and does
    not stop the run. Use it to audit runs, feed a dashboard, or page someone.

    Args:
        run: the run as ``GET /patch/runs/{id}`` shows it (``id``, ``policy``, ``state``,
            ``cis`` with each CI's state, change, snapshot and runner run).
        step: the step being entered.

    Returns: nothing.
    Calling rule: notification; every implementation is called.
    """
