"""Package version comparison, as rpm and dpkg order versions."""

from __future__ import annotations

import re

_SEGMENT = re.compile(r"~|\d+|[A-Za-z]+")


def _split_epoch(version: str) -> tuple[int, str]:
    epoch, sep, rest = version.partition(":")
    if sep and epoch.isdigit():
        return int(epoch), rest
    return 0, version


def _compare_segments(a: str, b: str) -> int:
    """rpmvercmp: digits compare as numbers and beat letters; ``~`` sorts before anything."""
    sa, sb = _SEGMENT.findall(a), _SEGMENT.findall(b)
    for x, y in zip(sa, sb, strict=False):
        if x == y:
            continue
        if x == "~" or y == "~":
            return -1 if x == "~" else 1
        if x.isdigit() and y.isdigit():
            return _sign(int(x) - int(y))
        if x.isdigit() != y.isdigit():
            return 1 if x.isdigit() else -1
        return -1 if x < y else 1
    rest_a, rest_b = sa[len(sb) :], sb[len(sa) :]
    if rest_a:
        return -1 if rest_a[0] == "~" else 1
    if rest_b:
        return 1 if rest_b[0] == "~" else -1
    return 0


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def compare_versions(installed: str, candidate: str) -> int:
    """-1, 0 or 1 as ``installed`` is older than, equal to or newer than ``candidate``.

    Handles epochs (``1:2.0``), releases (``2.0-3.el9``) and ``~`` pre-releases, which
    is how both RPM and Debian order package versions for the cases patching meets.
    """
    epoch_a, rest_a = _split_epoch(installed)
    epoch_b, rest_b = _split_epoch(candidate)
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    version_a, _, release_a = rest_a.partition("-")
    version_b, _, release_b = rest_b.partition("-")
    return _compare_segments(version_a, version_b) or _compare_segments(release_a, release_b)
